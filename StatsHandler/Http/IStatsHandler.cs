using System.Net;

namespace StatsHandler;

/// <summary>
/// Serves one HTTP request mounted on a <see cref="StatsServer"/> path, like Go's <c>http.Handler</c>.
/// </summary>
/// <remarks>
/// The server has already checked the method (GET or HEAD) and the path. The handler writes the status, headers and
/// body to <see cref="HttpListenerContext.Response"/>; the server closes the response afterwards. An exception
/// becomes a 500 with a JSON body (when nothing has been sent yet) and reaches the server's error callback; it never
/// stops the server. Handlers run concurrently and must be thread-safe.
/// </remarks>
public interface IStatsHandler
{
    /// <summary>Serves one request.</summary>
    /// <param name="context">The request and the response to write.</param>
    /// <param name="cancellationToken">
    /// Cancelled when the handler runs past <see cref="StatsServerLimits.RequestTimeout"/> (the client gets 503 "request
    /// timed out") or is still running when a stop's <see cref="StatsServerLimits.DrainTimeout"/> ends (503 "server is
    /// stopping"). HttpListener does not say when a client goes away, so a departed client does not cancel it: a write to
    /// it fails instead.
    /// </param>
    /// <returns>A task that completes when the response has been written.</returns>
    Task ServeHttpAsync(HttpListenerContext context, CancellationToken cancellationToken);
}
