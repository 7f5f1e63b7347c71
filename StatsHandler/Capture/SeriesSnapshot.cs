namespace StatsHandler;

/// <summary>
/// One series of an exported instrument as a capture copied it: its tags, and its value or its histogram's counts.
/// </summary>
/// <remarks>
/// <see cref="Tags"/> is the same instance at every capture for as long as the series exists, so a format may key what
/// it caches for a series (encoded labels, say) on it, by reference.
/// </remarks>
public readonly struct SeriesSnapshot
{
    private readonly long[]? _buckets;
    private readonly int _bucketStart;
    private readonly int _bucketCount;
    private readonly ExponentialHistogram? _exponential;
    private readonly Exemplar?[]? _exemplars;

    internal SeriesSnapshot(KeyValuePair<string, string>[] tags, double value)
    {
        Tags = tags;
        Value = value;
    }

    internal SeriesSnapshot(KeyValuePair<string, string>[] tags, long count, double sum, long[] buckets, int bucketStart, int bucketCount, ExponentialHistogram exponential, Exemplar?[]? exemplars)
    {
        _exponential = exponential;
        _exemplars = exemplars;
        Tags = tags;
        Count = count;
        Sum = sum;
        _buckets = buckets;
        _bucketStart = bucketStart;
        _bucketCount = bucketCount;
    }

    /// <summary>The series' tags as text, keys in the order first recorded; empty for the series without tags.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Tags { get; }

    /// <summary>The sum (counters, up-down counters) or the last value (gauges, observable instruments); 0 for a histogram.</summary>
    public double Value { get; }

    /// <summary>A histogram's observation count; 0 for other kinds.</summary>
    public long Count { get; }

    /// <summary>A histogram's sum of observations, in the instrument's unit; 0 for other kinds.</summary>
    public double Sum { get; }

    /// <summary>
    /// A histogram's observations per bucket, not cumulative: one per bound of <see cref="InstrumentSnapshot.Bounds"/>,
    /// then the one above the highest bound. Empty for other kinds.
    /// </summary>
    public ReadOnlySpan<long> BucketCounts => _buckets is null ? default : _buckets.AsSpan(_bucketStart, _bucketCount);

    /// <summary>A histogram's base-2 exponential buckets (a native histogram), read in the same capture; empty for other kinds.</summary>
    internal ExponentialHistogram Exponential => _exponential ?? ExponentialHistogram.Empty;

    /// <summary>A histogram's latest exemplar per classic bucket (null where none), or null when it has none.</summary>
    internal Exemplar?[]? Exemplars => _exemplars;

    /// <summary>The tags as the array a format keys its cache on.</summary>
    internal KeyValuePair<string, string>[] TagArray => (KeyValuePair<string, string>[])Tags;
}
