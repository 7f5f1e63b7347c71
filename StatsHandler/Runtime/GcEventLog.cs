namespace StatsHandler;

/// <summary>One collection as the runtime's GC events described it.</summary>
/// <param name="Index">The collection's number, as <c>gc_num</c> counts them (the events' <c>Count</c>).</param>
/// <param name="Generation">The generation collected: 0, 1 or 2.</param>
/// <param name="Reason">Why it ran, the runtime's <c>gc_reason</c> number; <see cref="GcEventLog.ReasonName"/> names it.</param>
/// <param name="Background">True for a background (concurrent) gen2 collection, whose pause is its suspensions' sum.</param>
/// <param name="PauseSeconds">How long it suspended the process: from the suspension's start to the restart's end.</param>
internal readonly record struct GcCollection(long Index, int Generation, int Reason, bool Background, double PauseSeconds);

/// <summary>
/// One server's record of every collection the GC events reported since it enabled them: the newest 256 (the Go
/// runtime's ring), a pause histogram (classic and exponential buckets) and counts by reason. Written by the event listener's thread, read by requests.
/// </summary>
internal sealed class GcEventLog
{
    /// <summary>Collections kept, newest first, as the Go runtime's <c>PauseNs</c> ring.</summary>
    public const int Capacity = 256;

    /// <summary>Upper bounds of the pause histogram's buckets in seconds: 0.1 ms to 1 s (then +Inf).</summary>
    public static readonly double[] BucketBounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

    /// <summary>The runtime's <c>gc_reason</c> values in order, as label values.</summary>
    private static readonly string[] ReasonNames =
    [
        "alloc_small", "induced", "low_memory", "empty", "alloc_large", "out_of_space_soh", "out_of_space_loh",
        "induced_not_forced", "internal", "induced_low_memory", "induced_compacting", "low_memory_host", "pm_full_gc",
        "low_memory_host_blocking", "bgc_tuning_soh", "bgc_tuning_loh", "bgc_stepping", "induced_aggressive",
    ];

    private readonly Lock _lock = new();
    private readonly GcCollection[] _ring = new GcCollection[Capacity];
    private readonly long[] _buckets = new long[BucketBounds.Length + 1];
    private readonly long[] _reasons = new long[ReasonNames.Length + 1];
    private readonly ExponentialBuckets _exponential = new(ExponentialScale.DefaultBudget);
    private int _newest = -1;
    private int _count;
    private long _total;
    private double _pauseSum;
    private long _version;
    private GcEventSnapshot? _snapshot;

    /// <summary>The label value for a <c>gc_reason</c> number; <c>other</c> for one this version does not know.</summary>
    public static string ReasonName(int reason) => (uint)reason < (uint)ReasonNames.Length ? ReasonNames[reason] : "other";

    /// <summary>Adds a collection that has ended. Called on the listener's thread.</summary>
    public void Record(in GcCollection collection)
    {
        lock (_lock)
        {
            _newest = (_newest + 1) % Capacity;
            _ring[_newest] = collection;
            _count = Math.Min(_count + 1, Capacity);
            _total++;
            _pauseSum += collection.PauseSeconds;
            int bucket = 0;
            while (bucket < BucketBounds.Length && collection.PauseSeconds > BucketBounds[bucket])
            {
                bucket++;
            }

            _buckets[bucket]++;
            _exponential.Record(collection.PauseSeconds);
            _reasons[Math.Min((uint)collection.Reason, (uint)ReasonNames.Length)]++;
            _version++;
        }
    }

    /// <summary>
    /// The log as it is now, immutable. Made once per collection, not per request: between collections every reader gets
    /// the same instance, JSON already rendered.
    /// </summary>
    public GcEventSnapshot Snapshot()
    {
        lock (_lock)
        {
            if (_snapshot is { } cached && cached.Version == _version)
            {
                return cached;
            }

            var recent = new GcCollection[_count];
            for (int i = 0; i < _count; i++)
            {
                recent[i] = _ring[(_newest - i + Capacity) % Capacity];
            }

            var reasons = new List<(string, long)>();
            for (int i = 0; i < _reasons.Length; i++)
            {
                if (_reasons[i] > 0)
                {
                    reasons.Add((i < ReasonNames.Length ? ReasonNames[i] : "other", _reasons[i]));
                }
            }

            var exponential = new ExponentialReading(ExponentialScale.DefaultBudget);
            _exponential.AddTo(exponential);
            _snapshot = new GcEventSnapshot(_version, recent, [.. _buckets], _total, _pauseSum, [.. reasons]) { Exponential = exponential.ToHistogram() };
            return _snapshot;
        }
    }
}

/// <summary>An immutable copy of a <see cref="GcEventLog"/>; the same instance between two collections, so a format may key its cache on it.</summary>
internal sealed class GcEventSnapshot
{
    public GcEventSnapshot(long version, GcCollection[] recent, long[] buckets, long count, double pauseSum, (string Reason, long Count)[] reasons)
    {
        Version = version;
        Recent = recent;
        Buckets = buckets;
        Count = count;
        PauseSum = pauseSum;
        Reasons = reasons;
    }

    /// <summary>Which state of the log this is; it grows by one per collection.</summary>
    public long Version { get; }

    /// <summary>The newest collections, newest first, at most <see cref="GcEventLog.Capacity"/>.</summary>
    public GcCollection[] Recent { get; }

    /// <summary>Collections per pause bucket (not cumulative), the last for pauses over 1 s.</summary>
    public long[] Buckets { get; }

    /// <summary>Every collection seen since the log started.</summary>
    public long Count { get; }

    /// <summary>Their pauses' sum in seconds.</summary>
    public double PauseSum { get; }

    /// <summary>Every pause in base-2 exponential buckets (a native histogram), in seconds.</summary>
    public ExponentialHistogram Exponential { get; init; } = ExponentialHistogram.Empty;

    /// <summary>Collections by reason, only the reasons seen, in the runtime's order.</summary>
    public (string Reason, long Count)[] Reasons { get; }
}
