using System.Net;

namespace StatsHandler;

/// <summary>
/// Serves the process's runtime statistics for Prometheus: the text format 0.0.4 by default, OpenMetrics 1.0 when the
/// request's <c>Accept</c> header prefers it, as Prometheus's own scraper does.
/// </summary>
/// <remarks>
/// <para>Mount it with <see cref="StatsServer.HandlePrometheus(string)"/>, which also writes the server's published values
/// (<see cref="StatsServer.Publish(string, Func{long})"/>) and exported meters (<see cref="StatsServer.ExportMeters(string[])"/>).
/// Created directly, it writes the built-in <c>process_*</c> and <c>dotnet_*</c> families only, or a registry's exports
/// (and its constant labels) too when given one (<see cref="PrometheusHandler(StatsRegistry)"/>); dispose it when
/// done. <see cref="PrometheusHandlerOptions.IncludeRuntimeMetrics"/> leaves the built-in families out.</para>
/// <para>The output is built in a pooled buffer and sent with an exact <c>Content-Length</c> in one write.</para>
/// </remarks>
public sealed class PrometheusHandler : IStatsHandler, IDisposable
{
    private readonly RuntimeStatsCollector _collector;
    private readonly StatsRegistry? _registry;
    private readonly bool _runtime;
    private readonly SmallPool<PrometheusBuffer> _buffers = new(16);
    private long _gen0;
    private long _gen1;
    private long _gen2;
    private int _lastLength = 8192;

    /// <summary>Creates a handler that writes the built-in families, read by a runtime probe of its own.</summary>
    public PrometheusHandler()
        : this(null)
    {
    }

    /// <summary>
    /// Creates a handler that also writes <paramref name="registry"/>'s published values and meters, and reads the
    /// runtime probe the registry's other handlers read (so <c>dotnet_exceptions_total</c> and the JSON
    /// <c>exception_num</c> agree), for example <c>new PrometheusHandler(server.Registry)</c>.
    /// </summary>
    /// <param name="registry">The exports to write and the probe to share; none (a probe of its own) when null.</param>
    /// <exception cref="ObjectDisposedException"><paramref name="registry"/> has been disposed.</exception>
    public PrometheusHandler(StatsRegistry? registry)
        : this(registry, null)
    {
    }

    /// <summary>
    /// Creates a handler for <paramref name="registry"/>'s exports with <paramref name="options"/>, for example without
    /// the built-in runtime families: <c>new PrometheusHandler(server.Registry, new() { IncludeRuntimeMetrics = false })</c>.
    /// </summary>
    /// <param name="registry">The exports to write and the probe to share; none (a probe of its own) when null.</param>
    /// <param name="options">What to write; the defaults when null.</param>
    /// <exception cref="ObjectDisposedException"><paramref name="registry"/> has been disposed.</exception>
    public PrometheusHandler(StatsRegistry? registry, PrometheusHandlerOptions? options)
    {
        _collector = registry is null ? new RuntimeStatsCollector() : new RuntimeStatsCollector(null, null, registry.Probe());
        _registry = registry;
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
        bool openMetrics = ExpositionFormat.PrefersOpenMetrics(context.Request.Headers["Accept"]);
        context.Response.Headers["Vary"] = "Accept";
        PrometheusBuffer buffer = Render(openMetrics);
        try
        {
            await StatsResponse.WriteAsync(
                context,
                200,
                openMetrics ? ExpositionFormat.OpenMetricsContentType : ExpositionFormat.TextContentType,
                buffer.WrittenMemory,
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Return(buffer);
        }
    }

    /// <summary>Stops the handler's exception counting and closes the handles it keeps open. Idempotent.</summary>
    public void Dispose()
    {
        _collector.Dispose();
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

    /// <summary>Renders one scrape into a pooled buffer; the caller hands it back with <see cref="Return"/>.</summary>
    internal PrometheusBuffer Render(bool openMetrics)
    {
        // Observable instruments report when asked: ask before the snapshot so their values are as fresh as the rest.
        _registry?.Meters?.Observe();
        PrometheusBuffer buffer = Rent();
        try
        {
            if (_runtime)
            {
                RuntimeStats stats = _collector.Capture();
                ProcessFigures process = ReadProcessFigures(in stats);
                PrometheusFamilies.Write(buffer, openMetrics, in stats, in process);
                if (_registry?.GcEvents is { } gcEvents)
                {
                    GcEventPrometheusWriter.Write(buffer, openMetrics, gcEvents);
                }
            }

            if (_registry is not null)
            {
                ExportsPrometheusWriter.Write(buffer, openMetrics, _registry);
                buffer = WithConstantLabels(buffer, _registry.ConstantLabels);
            }

            if (openMetrics)
            {
                buffer.Write("# EOF\n"u8);
            }

            Volatile.Write(ref _lastLength, buffer.Length + 1024);
            return buffer;
        }
        catch
        {
            Return(buffer);
            throw;
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

    private ProcessFigures ReadProcessFigures(in RuntimeStats stats)
    {
        // GcGenNCount count collections of generation N or higher; Prometheus wants each generation on its own.
        return new ProcessFigures(
            NeverBelow(ref _gen0, (long)stats.GcGen0Count - stats.GcGen1Count),
            NeverBelow(ref _gen1, (long)stats.GcGen1Count - stats.GcGen2Count),
            NeverBelow(ref _gen2, stats.GcGen2Count));
    }

    /// <summary>
    /// Returns the larger of <paramref name="value"/> and the last value returned, and remembers it: the per-generation
    /// counts are differences of counts read one after the other, which a collection in between can make dip by one.
    /// </summary>
    private static long NeverBelow(ref long last, long value)
    {
        long seen = Volatile.Read(ref last);
        while (value > seen)
        {
            long previous = Interlocked.CompareExchange(ref last, value, seen);
            if (previous == seen)
            {
                return value;
            }

            seen = previous;
        }

        return seen;
    }
}
