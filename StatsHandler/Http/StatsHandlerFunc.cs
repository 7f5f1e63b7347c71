using System.Net;

namespace StatsHandler;

/// <summary>
/// A request handler written as a delegate, like Go's <c>http.HandlerFunc</c>; mount it with
/// <see cref="StatsServer.HandleFunc(string, StatsHandlerFunc)"/>. The same rules as <see cref="IStatsHandler"/> apply.
/// </summary>
/// <param name="context">The request and the response to write.</param>
/// <param name="cancellationToken">Cancelled when the server stops or the client has gone.</param>
/// <returns>A task that completes when the response has been written.</returns>
public delegate Task StatsHandlerFunc(HttpListenerContext context, CancellationToken cancellationToken);
