using System.Net;

namespace StatsHandler;

/// <summary>
/// A request handler written as a delegate, like Go's <c>http.HandlerFunc</c>; mount it with
/// <see cref="StatsServer.HandleFunc(string, StatsHandlerFunc)"/>. The same rules as <see cref="IStatsHandler"/> apply.
/// </summary>
/// <param name="context">The request and the response to write.</param>
/// <param name="cancellationToken">
/// Cancelled when the handler runs past <see cref="StatsServerLimits.RequestTimeout"/> or is still running when a stop's
/// <see cref="StatsServerLimits.DrainTimeout"/> ends, as for <see cref="IStatsHandler.ServeHttpAsync"/>; a departed client
/// does not cancel it (HttpListener does not say when one goes away): a write to it fails instead.
/// </param>
/// <returns>A task that completes when the response has been written.</returns>
public delegate Task StatsHandlerFunc(HttpListenerContext context, CancellationToken cancellationToken);
