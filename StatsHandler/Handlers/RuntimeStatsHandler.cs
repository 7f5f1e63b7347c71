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
/// Per request: one capture (<see cref="StatsSnapshot"/>), then the JSON writer, then the response.
/// </remarks>
public sealed class RuntimeStatsHandler : IStatsHandler, IDisposable
{
    private readonly JsonBufferPool _buffers = new();
    private readonly JsonStatsWriter _writer = new();
    private readonly StatsCapture _capture;
    private readonly RuntimeStatsHandlerOptions _options;

    /// <summary>Creates a handler that writes the runtime statistics only, read by a probe of its own.</summary>
    /// <param name="options">Output and sampling options; the defaults when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">The options' rate interval is out of range.</exception>
    public RuntimeStatsHandler(RuntimeStatsHandlerOptions? options = null)
        : this(null, options)
    {
    }

    /// <summary>
    /// Creates a handler that also writes <paramref name="source"/>'s meters and published values, and reads the
    /// runtime probe the source's other handlers read (so their counts agree), for example
    /// <c>new RuntimeStatsHandler(server.Source, new RuntimeStatsHandlerOptions { Indented = true })</c>.
    /// </summary>
    /// <param name="source">The exports to write and the probe to share; none (a probe of its own) when null.</param>
    /// <param name="options">Output and sampling options; the defaults when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">The options' rate interval is out of range.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="source"/> has been disposed.</exception>
    public RuntimeStatsHandler(StatsSource? source, RuntimeStatsHandlerOptions? options = null)
    {
        _options = options ?? new RuntimeStatsHandlerOptions();
        _capture = new StatsCapture(source, _options.TimeProvider, _options.RateInterval);
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

    /// <summary>Captures a snapshot and writes the response body into a pooled buffer; return the lease when sent.</summary>
    internal JsonBufferPool.Lease Render(bool indented)
    {
        StatsSnapshot snapshot = _capture.Take();
        JsonBufferPool.Lease lease = _buffers.Rent(indented);
        try
        {
            _writer.Write(lease.Writer, snapshot);
        }
        finally
        {
            _capture.Return(snapshot);
        }

        lease.Writer.Flush();
        if (_options.NewLineTerminated)
        {
            lease.Buffer.Write("\n"u8);
        }

        return lease;
    }

    /// <summary>Gives back a buffer <see cref="Render"/> lent.</summary>
    internal void Return(JsonBufferPool.Lease lease) => _buffers.Return(lease);

    /// <summary>Stops the handler's exception counting and closes the handles it keeps open (a source's shared probe stays open). Idempotent.</summary>
    public void Dispose() => _capture.Dispose();
}
