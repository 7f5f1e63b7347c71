namespace StatsHandler;

/// <summary>
/// Everything one request shows, captured once: the runtime figures, the exported instruments' series and the
/// published values, each read once, in one place that reported their callbacks' errors. A format writes its bytes
/// from it and from nothing else (see <see cref="IStatsWriter"/>).
/// </summary>
/// <remarks>
/// A handler captures one per request and hands it to its writer; the writer must not keep it (or its spans) past
/// <see cref="IStatsWriter.Write"/>: the handler reuses its arrays for a later request, so serving allocates nothing.
/// </remarks>
public sealed class StatsSnapshot
{
    private InstrumentSnapshot[] _instruments = [];
    private SeriesSnapshot[] _series = [];
    private long[] _buckets = [];
    private PublishedSnapshot[] _published = [];
    private int _instrumentCount;
    private int _seriesCount;
    private int _bucketCount;
    private int _publishedCount;

    internal StatsSnapshot()
    {
    }

    /// <summary>The runtime figures, with rates over the handler's rate interval; <c>default</c> when <see cref="HasRuntime"/> is false.</summary>
    public RuntimeStats Runtime { get; private set; }

    /// <summary>True when the handler asked for the runtime figures (a Prometheus handler may leave them out).</summary>
    public bool HasRuntime { get; private set; }

    /// <summary>The exported instruments, in the order they were published; empty when the source exports no meters.</summary>
    public ReadOnlySpan<InstrumentSnapshot> Instruments => _instruments.AsSpan(0, _instrumentCount);

    /// <summary>The published values whose callbacks returned, in the order they were published.</summary>
    public ReadOnlySpan<PublishedSnapshot> Published => _published.AsSpan(0, _publishedCount);

    /// <summary>The labels every Prometheus sample carries (<see cref="StatsSource.AddConstantLabel"/>), in the order added.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ConstantLabels => ConstantLabelArray;

    /// <summary>The constant labels as the array a format keys its cache on (replaced when one is added).</summary>
    internal KeyValuePair<string, string>[] ConstantLabelArray { get; private set; } = [];

    /// <summary>True when the source exports meters (the JSON document then has a <c>meters</c> key, even empty).</summary>
    internal bool ExportsMeters { get; private set; }

    /// <summary>Collections of exactly each generation, never going down.</summary>
    internal GcGenerationCounts Collections { get; private set; }

    /// <summary>The GC event log as it was, when the source records GC events and the runtime figures were asked for.</summary>
    internal GcEventSnapshot? GcEvents { get; private set; }

    /// <summary>Empties the snapshot for a new capture, keeping its arrays.</summary>
    internal void Reset(KeyValuePair<string, string>[] constantLabels, bool exportsMeters)
    {
        Array.Clear(_instruments, 0, _instrumentCount);
        Array.Clear(_series, 0, _seriesCount);
        Array.Clear(_published, 0, _publishedCount);
        _instrumentCount = _seriesCount = _bucketCount = _publishedCount = 0;
        Runtime = default;
        HasRuntime = false;
        Collections = default;
        GcEvents = null;
        ConstantLabelArray = constantLabels;
        ExportsMeters = exportsMeters;
    }

    internal void SetRuntime(in RuntimeStats stats, GcGenerationCounts collections, GcEventSnapshot? gcEvents)
    {
        Runtime = stats;
        HasRuntime = true;
        Collections = collections;
        GcEvents = gcEvents;
    }

    internal void AddPublished(in PublishedSnapshot value) => Append(ref _published, ref _publishedCount, value);

    /// <summary>Copies the instrument's series as they are now: each series' figures are read without a lock, so a capture never makes a Record wait.</summary>
    internal void AddInstrument(InstrumentState state)
    {
        int first = _seriesCount;
        ReadOnlySpan<MeterSeries> series = state.Series;
        int buckets = state.Kind == InstrumentKind.Histogram ? state.Bounds.Length + 1 : 0;
        foreach (MeterSeries one in series)
        {
            if (buckets == 0)
            {
                Append(ref _series, ref _seriesCount, new SeriesSnapshot(one.Tags.Shown, one.Value));
                continue;
            }

            int start = _bucketCount;
            EnsureRoom(ref _buckets, start + buckets);
            long count = one.ReadHistogram(_buckets.AsSpan(start, buckets), out double sum);
            _bucketCount += buckets;
            Append(ref _series, ref _seriesCount, new SeriesSnapshot(one.Tags.Shown, count, sum, _buckets, start, buckets, one.ReadExponential(), one.ReadExemplars()));
        }

        Append(ref _instruments, ref _instrumentCount, new InstrumentSnapshot(state, _series, first, _seriesCount - first));
    }

    private static void Append<T>(ref T[] items, ref int count, in T item)
    {
        EnsureRoom(ref items, count + 1);
        items[count++] = item;
    }

    private static void EnsureRoom<T>(ref T[] items, int needed)
    {
        if (needed > items.Length)
        {
            Array.Resize(ref items, Math.Max(needed, Math.Max(8, items.Length * 2)));
        }
    }
}

/// <summary>
/// Collections of exactly generation 0, 1 and 2 (the runtime counts collections of a generation or higher), kept from
/// ever going down: the runtime's counts are read one after the other, not atomically.
/// </summary>
internal readonly record struct GcGenerationCounts(long Gen0, long Gen1, long Gen2);
