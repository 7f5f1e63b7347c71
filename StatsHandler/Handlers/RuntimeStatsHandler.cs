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
    private readonly JsonWriterCache _cache = new();
    private readonly RuntimeStatsCollector _collector;
    private readonly RuntimeStatsHandlerOptions _options;
    private readonly StatsRegistry? _registry;

    /// <summary>Creates a handler that writes the runtime statistics only, read by a probe of its own.</summary>
    /// <param name="options">Output and sampling options; the defaults when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">The options' rate interval is out of range.</exception>
    public RuntimeStatsHandler(RuntimeStatsHandlerOptions? options = null)
        : this(options, null)
    {
    }

    /// <summary>
    /// Creates a handler that also writes <paramref name="registry"/>'s meters and published values, and reads the
    /// runtime probe the registry's other handlers read (so their counts agree), for example
    /// <c>new RuntimeStatsHandler(new RuntimeStatsHandlerOptions { Indented = true }, server.Registry)</c>.
    /// </summary>
    /// <param name="options">Output and sampling options; the defaults when null.</param>
    /// <param name="registry">The exports to write and the probe to share; none (a probe of its own) when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">The options' rate interval is out of range.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="registry"/> has been disposed.</exception>
    public RuntimeStatsHandler(RuntimeStatsHandlerOptions? options, StatsRegistry? registry)
    {
        _options = options ?? new RuntimeStatsHandlerOptions();
        _collector = registry is null
            ? new RuntimeStatsCollector(_options.TimeProvider, _options.RateInterval)
            : new RuntimeStatsCollector(_options.TimeProvider, _options.RateInterval, registry.Probe());
        _registry = registry;
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
        _registry?.Meters?.Observe();
        RuntimeStats stats = _collector.Capture();
        JsonBufferPool.Lease lease = _buffers.Rent(indented);
        RuntimeStatsJsonWriter.Write(lease.Writer, in stats, _registry, _cache);
        lease.Writer.Flush();
        if (_options.NewLineTerminated)
        {
            lease.Buffer.Write("\n"u8);
        }

        return lease;
    }

    /// <summary>Gives back a buffer <see cref="Render"/> lent.</summary>
    internal void Return(JsonBufferPool.Lease lease) => _buffers.Return(lease);

    /// <summary>Stops the handler's exception counting and closes the handles it keeps open (a registry's shared probe stays open). Idempotent.</summary>
    public void Dispose() => _collector.Dispose();
}
