using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace StatsHandler.Hosting;

/// <summary>
/// The hosted service <c>AddStatsServer</c> registers: it builds the <see cref="StatsServer"/> from
/// <see cref="StatsServerOptions"/> and the application's configure callback when the host starts, listens (a taken port
/// or a bad setting fails the host's start), reports the server's errors to the <c>StatsHandler.StatsServer</c> logger,
/// and stops the server when the host stops, within the host's shutdown timeout.
/// </summary>
/// <remarks>Resolve it from the host's services to read <see cref="Server"/>, for example its <see cref="StatsServer.Url"/> on port 0.</remarks>
public sealed partial class StatsServerService : IHostedService, IAsyncDisposable
{
    /// <summary>The logger category the server's errors and lifecycle are written to.</summary>
    public const string LoggerCategory = "StatsHandler.StatsServer";

    private readonly IServiceProvider _services;
    private readonly IOptions<StatsServerOptions> _options;
    private readonly Action<IServiceProvider, StatsServer> _configure;
    private readonly ILogger _logger;
    private StatsServer? _server;

    internal StatsServerService(
        IServiceProvider services,
        IOptions<StatsServerOptions> options,
        ILoggerFactory loggerFactory,
        Action<IServiceProvider, StatsServer> configure)
    {
        _services = services;
        _options = options;
        _configure = configure;
        _logger = loggerFactory.CreateLogger(LoggerCategory);
    }

    /// <summary>The running server, once the host has started.</summary>
    /// <exception cref="InvalidOperationException">The host has not started the service yet.</exception>
    public StatsServer Server => Volatile.Read(ref _server)
        ?? throw new InvalidOperationException("The stats server is created when the host starts: read Server after IHost.StartAsync.");

    /// <summary>Builds the server from the options and the configure callback, then starts listening.</summary>
    /// <param name="cancellationToken">The host's start token.</param>
    /// <returns>A task that completes once the server is listening.</returns>
    /// <exception cref="OptionsValidationException">A setting is invalid; the message names each configuration key, such as <c>StatsServer:Address</c>.</exception>
    /// <exception cref="System.Net.HttpListenerException">The port is taken, or access to the address was denied.</exception>
    /// <exception cref="InvalidOperationException">The service was already started.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _server) is not null)
        {
            throw new InvalidOperationException("The stats server service has already started; a host starts it once.");
        }

        StatsServer server = StatsServerFactory.Create(_options.Value);
        try
        {
            // Set before the application's callback, so an OnError of its own replaces this one.
            server.OnError(e => LogRequestFailed(_logger, e));
            _configure(_services, server);
            StatsServerFactory.ApplyAnonymousRoutes(server, _options.Value);
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        Volatile.Write(ref _server, server);
        Uri serving = ServingUrl(server.Url, _options.Value.AllowedHosts);
        LogServing(_logger, serving, server);
    }

    /// <summary>
    /// Stops the server: new requests get 503 at once, requests in flight may finish until the server's drain timeout
    /// or the host's shutdown timeout (whichever comes first), then the port is released.
    /// </summary>
    /// <param name="cancellationToken">The host's stop token; it fires when the host's shutdown timeout runs out.</param>
    /// <returns>A task that completes when the server has stopped.</returns>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        StatsServer? server = Volatile.Read(ref _server);
        if (server is null)
        {
            return;
        }

        await server.StopAsync(cancellationToken).ConfigureAwait(false);
        LogStopped(_logger, server.Url);
    }

    /// <summary>Stops and releases the server, if it was started. Idempotent.</summary>
    /// <returns>A task that completes when the server is released.</returns>
    public ValueTask DisposeAsync() => Volatile.Read(ref _server)?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>
    /// The URL to log: with allowed hosts, on the first of them, since the server refuses any other Host (a loopback
    /// name included), so the address <see cref="StatsServer.Url"/> names would answer 403.
    /// </summary>
    internal static Uri ServingUrl(Uri url, IList<string> allowedHosts) =>
        allowedHosts.Count == 0 ? url : new UriBuilder(url) { Host = allowedHosts[0].Trim().TrimEnd('.') }.Uri;

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Serving runtime stats on {Url} ({Server})")]
    private static partial void LogServing(ILogger logger, Uri url, StatsServer server);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Stats server on {Url} stopped")]
    private static partial void LogStopped(ILogger logger, Uri url);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Stats request failed")]
    private static partial void LogRequestFailed(ILogger logger, Exception exception);
}
