using System.Net;

namespace StatsHandler;

/// <summary>
/// Serves the process's runtime statistics for Prometheus: the text format 0.0.4 by default, OpenMetrics 1.0 when the
/// request's <c>Accept</c> header prefers it, as Prometheus's own scraper does.
/// </summary>
/// <remarks>
/// <para>Mount it with <see cref="StatsServer.HandlePrometheus(string, PrometheusHandlerOptions?)"/>, which also writes the
/// server's source: published values, exported meters, GC events and constant labels (<see cref="StatsServer.Source"/>).
/// Created directly, it writes the built-in <c>process_*</c> and <c>dotnet_*</c> families only, or a source's exports
/// too when given one (<see cref="PrometheusHandler(StatsSource, PrometheusHandlerOptions)"/>); dispose it when
/// done. <see cref="PrometheusHandlerOptions.IncludeRuntimeMetrics"/> leaves the built-in families out.</para>
/// <para>Per scrape: one capture (<see cref="StatsSnapshot"/>), then the Prometheus writer, then the response.</para>
/// <para>The output is built in a pooled buffer and sent with an exact <c>Content-Length</c> in one write.</para>
/// </remarks>
public sealed class PrometheusHandler : IStatsHandler, IDisposable
{
    private readonly StatsCapture _capture;
    private readonly PrometheusStatsWriter _writer = new();
    private readonly bool _runtime;
    private readonly SmallPool<PrometheusBuffer> _buffers = new(16);
    private int _lastLength = 8192;

    /// <summary>Creates a handler that writes the built-in families, read by a runtime probe of its own.</summary>
    /// <param name="options">What to write; the defaults when null.</param>
    public PrometheusHandler(PrometheusHandlerOptions? options = null)
        : this(null, options)
    {
    }

    /// <summary>
    /// Creates a handler that also writes <paramref name="source"/>'s published values, meters and constant labels, and
    /// reads the runtime probe the source's other handlers read (so <c>dotnet_exceptions_total</c> and the JSON
    /// <c>exception_num</c> agree), for example <c>new PrometheusHandler(server.Source, new() { IncludeRuntimeMetrics = false })</c>.
    /// </summary>
    /// <param name="source">The exports to write and the probe to share; none (a probe of its own) when null.</param>
    /// <param name="options">What to write; the defaults when null.</param>
    /// <exception cref="ObjectDisposedException"><paramref name="source"/> has been disposed.</exception>
    public PrometheusHandler(StatsSource? source, PrometheusHandlerOptions? options = null)
    {
        _capture = new StatsCapture(source);
        _runtime = options?.IncludeRuntimeMetrics ?? true;
    }

    /// <summary>Serves one scrape with a fresh snapshot.</summary>
    /// <param name="context">The request and the response to write.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the response has been written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The handler has been disposed.</exception>
    public async Task ServeHttpAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        string? accept = context.Request.Headers["Accept"];
        bool protobuf = ExpositionFormat.PrefersProtobuf(accept);
        bool openMetrics = !protobuf && ExpositionFormat.PrefersOpenMetrics(accept);
        context.Response.Headers["Vary"] = "Accept";
        PrometheusBuffer buffer = Render(openMetrics, protobuf);
        try
        {
            await StatsResponse.WriteAsync(
                context,
                200,
                protobuf ? PrometheusProtobufWriter.ContentType : openMetrics ? ExpositionFormat.OpenMetricsContentType : ExpositionFormat.TextContentType,
                buffer.WrittenMemory,
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Return(buffer);
        }
    }

    /// <summary>Stops the handler's exception counting and closes the handles it keeps open (a source's shared probe stays open). Idempotent.</summary>
    public void Dispose()
    {
        _capture.Dispose();
        _buffers.Drain(static buffer => buffer.Dispose());
    }

    /// <summary>Gives back a buffer <see cref="Render"/> lent, for the next scrape.</summary>
    internal void Return(PrometheusBuffer buffer)
    {
        // A rare huge scrape should not pin its memory for the life of the handler.
        if (buffer.Capacity > 1024 * 1024 || !_buffers.TryReturn(buffer))
        {
            buffer.Dispose();
        }
    }

    /// <summary>
    /// Captures a snapshot and renders it into a pooled buffer, as text, OpenMetrics, or (<paramref name="protobuf"/>)
    /// the protobuf exposition made from the text; the caller hands the buffer back with <see cref="Return"/>.
    /// </summary>
    internal PrometheusBuffer Render(bool openMetrics, bool protobuf = false)
    {
        StatsSnapshot snapshot = _capture.Take(_runtime);
        PrometheusBuffer buffer = Rent();
        try
        {
            _writer.Write(buffer, openMetrics, snapshot);
            buffer = WithConstantLabels(buffer, _writer.ConstantLabelsOf(snapshot));
            if (openMetrics)
            {
                buffer.Write("# EOF\n"u8);
            }
            else if (protobuf)
            {
                PrometheusBuffer text = buffer;
                buffer = Rent();
                try
                {
                    PrometheusProtobufWriter.Write(text.WrittenSpan, snapshot, buffer);
                }
                finally
                {
                    Return(text);
                }
            }

            Volatile.Write(ref _lastLength, buffer.Length + 1024);
            return buffer;
        }
        catch
        {
            Return(buffer);
            throw;
        }
        finally
        {
            _capture.Return(snapshot);
        }
    }

    private PrometheusBuffer Rent()
    {
        PrometheusBuffer? buffer = _buffers.TryRent();
        buffer?.Reset();
        return buffer ?? new PrometheusBuffer(Volatile.Read(ref _lastLength));
    }

    /// <summary>Returns a buffer holding <paramref name="written"/> with every sample labelled, and gives <paramref name="written"/> back to the pool.</summary>
    private PrometheusBuffer WithConstantLabels(PrometheusBuffer written, ConstantLabels labels)
    {
        if (labels.IsEmpty)
        {
            return written;
        }

        PrometheusBuffer labelled = Rent();
        try
        {
            labels.Apply(written.WrittenSpan, labelled);
        }
        catch
        {
            // The caller still holds the written buffer and gives it back.
            Return(labelled);
            throw;
        }

        Return(written);
        return labelled;
    }
}
