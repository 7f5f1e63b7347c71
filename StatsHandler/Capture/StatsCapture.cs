namespace StatsHandler;

/// <summary>
/// The one capture step of a handler: per request it runs the observable instruments' callbacks and the published
/// values' delegates once, reads the runtime probe, reports every callback's error once (to the source's error
/// policy), and fills a <see cref="StatsSnapshot"/> that the handler's writer formats. One per handler: it keeps the
/// handler's rate history and the per-generation counts' floor; the probe is the source's, shared.
/// </summary>
internal sealed class StatsCapture : IDisposable
{
    private readonly StatsSource? _source;
    private readonly RuntimeStatsCollector _collector;
    private readonly SmallPool<StatsSnapshot> _snapshots = new(16);
    private long _gen0;
    private long _gen1;
    private long _gen2;

    /// <param name="source">The exports and the probe to share; null for the runtime figures alone, read by a probe of this capture's own.</param>
    /// <param name="timeProvider">The clock for timestamps and rates.</param>
    /// <param name="rateInterval">The interval rates cover.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rateInterval"/> is out of range.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="source"/> has been disposed.</exception>
    public StatsCapture(StatsSource? source, TimeProvider? timeProvider = null, TimeSpan? rateInterval = null)
    {
        _source = source;
        _collector = source is null
            ? new RuntimeStatsCollector(timeProvider, rateInterval)
            : new RuntimeStatsCollector(timeProvider, rateInterval, source.Probe());
    }

    /// <summary>
    /// Captures a snapshot now; give it back with <see cref="Return"/> once written.
    /// </summary>
    /// <param name="runtime">False to leave the runtime figures (and the GC events) out, for an output that does not show them.</param>
    public StatsSnapshot Take(bool runtime = true)
    {
        StatsSnapshot snapshot = _snapshots.TryRent() ?? new StatsSnapshot();
        _source?.MarkInService();
        MeterBridge? meters = _source?.Meters;
        snapshot.Reset(_source?.ConstantLabelArray ?? [], meters is not null);

        // Observable instruments report when asked: ask before the runtime figures so their values are as fresh.
        meters?.Observe();
        if (runtime)
        {
            RuntimeStats stats = _collector.Capture();
            snapshot.SetRuntime(in stats, Generations(in stats), _source?.GcEvents?.Snapshot());
        }

        if (_source is not null)
        {
            foreach (PublishedValue value in _source.Published)
            {
                if (!value.TryRead(out PublishedReading reading, out Exception? error))
                {
                    _source.Report(error!);
                    continue;
                }

                bool shadowed = meters is not null && meters.Claims(value.SampleName);
                if (shadowed)
                {
                    _source.ReportClash(value);
                }

                snapshot.AddPublished(new PublishedSnapshot(value, reading, shadowed));
            }
        }

        if (meters is not null)
        {
            foreach (InstrumentState instrument in meters.Instruments)
            {
                snapshot.AddInstrument(instrument);
            }
        }

        return snapshot;
    }

    /// <summary>Takes back a snapshot <see cref="Take"/> gave, for a later request.</summary>
    public void Return(StatsSnapshot snapshot) => _snapshots.TryReturn(snapshot);

    /// <summary>Stops the capture's exception counting (a source's shared probe stays open). Idempotent.</summary>
    public void Dispose() => _collector.Dispose();

    private GcGenerationCounts Generations(in RuntimeStats stats) => new(
        NeverBelow(ref _gen0, (long)stats.GcGen0Count - stats.GcGen1Count),
        NeverBelow(ref _gen1, (long)stats.GcGen1Count - stats.GcGen2Count),
        NeverBelow(ref _gen2, stats.GcGen2Count));

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
