using System.Buffers;
using System.Net;

namespace StatsHandler;

/// <summary>
/// Serves the process's runtime statistics as one JSON object: the Go original's <c>stats_api.Handler</c>.
/// <c>?pp=1</c> (or <c>?pp=true</c>) indents that response only.
/// </summary>
/// <remarks>
/// Each handler keeps its own sample history, so rates do not depend on how many clients poll it, or on other handlers.
/// <see cref="StatsServer.Handle(string)"/> creates and disposes one for you; dispose one you create yourself.
/// </remarks>
public sealed class RuntimeStatsHandler : IStatsHandler, IDisposable
{
    private readonly JsonBufferPool _buffers = new();
    private readonly RuntimeStatsCollector _collector;
    private readonly RuntimeStatsHandlerOptions _options;
    private readonly ServerExports? _exports;

    /// <summary>Creates a handler.</summary>
    /// <param name="options">Output and sampling options; the defaults when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">The options' rate interval is out of range.</exception>
    public RuntimeStatsHandler(RuntimeStatsHandlerOptions? options = null)
        : this(options, null)
    {
    }

    internal RuntimeStatsHandler(RuntimeStatsHandlerOptions? options, ServerExports? exports)
    {
        _options = options ?? new RuntimeStatsHandlerOptions();
        _collector = new RuntimeStatsCollector(_options.TimeProvider, _options.RateInterval);
        _exports = exports;
    }

    /// <summary>Serves one request with a fresh snapshot.</summary>
    /// <param name="context">The request and the response to write.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the response has been written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is null.</exception>
    public async Task ServeHttpAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        bool indented = _options.Indented || QueryString.IsTrue(context.Request.RawUrl, "pp");
        JsonBufferPool.Lease lease = Render(indented);
        try
        {
            await StatsResponse.WriteAsync(context, 200, StatsResponse.JsonContentType, lease.Buffer.WrittenMemory, cancellationToken)
                .ConfigureAwait(false);
        }
        finally
        {
            _buffers.Return(lease);
        }
    }

    /// <summary>Takes a snapshot and writes the response body into a pooled buffer; return the lease when sent.</summary>
    internal JsonBufferPool.Lease Render(bool indented)
    {
        _exports?.Meters?.Observe();
        RuntimeStats stats = _collector.Capture();
        JsonBufferPool.Lease lease = _buffers.Rent(indented);
        RuntimeStatsJsonWriter.Write(lease.Writer, in stats, _exports);
        lease.Writer.Flush();
        if (_options.NewLineTerminated)
        {
            lease.Buffer.Write("\n"u8);
        }

        return lease;
    }

    /// <summary>Gives back a buffer <see cref="Render"/> lent.</summary>
    internal void Return(JsonBufferPool.Lease lease) => _buffers.Return(lease);

    /// <summary>Stops the handler's exception counting and closes the handles it keeps open. Idempotent.</summary>
    public void Dispose() => _collector.Dispose();
}
