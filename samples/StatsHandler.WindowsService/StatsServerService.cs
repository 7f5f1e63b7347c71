using Microsoft.Extensions.Options;

namespace StatsHandler.WindowsService;

/// <summary>
/// Runs a <see cref="StatsServer"/> for exactly the service's lifetime: it listens when the host starts (a port
/// that is taken fails the start, so the service never reports "running" while serving nothing) and stops,
/// draining requests in flight, when the host stops.
/// </summary>
internal sealed partial class StatsServerService(IOptions<StatsServerOptions> options, ILogger<StatsServerService> logger)
    : IHostedService, IAsyncDisposable
{
    private StatsServer? _server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        StatsServerOptions settings = options.Value;
        var server = new StatsServer(settings.Address)
            .Handle(settings.Path)
            .HandleFunc("/healthz", (context, ct) => StatsResponse.WriteTextAsync(context, 200, "ok\n", ct))
            // Handler failures reach the host's logger (Event Log under the SCM, the console otherwise).
            .OnError(e => LogRequestFailed(e));
        try
        {
            await server.StartAsync(cancellationToken);
        }
        catch
        {
            server.Dispose();
            throw;
        }

        _server = server;
        var stats = new Uri(server.Url, settings.Path.TrimStart('/'));
        LogServing(stats);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is null)
        {
            return;
        }

        // The host's token fires when its shutdown timeout runs out: the drain is cut short, the stop still completes.
        await _server.StopAsync(cancellationToken);
        LogStopped();
    }

    public ValueTask DisposeAsync() => _server?.DisposeAsync() ?? ValueTask.CompletedTask;

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Serving runtime stats on {Url}")]
    private partial void LogServing(Uri url);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Stats server stopped")]
    private partial void LogStopped();

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Stats request failed")]
    private partial void LogRequestFailed(Exception exception);
}
