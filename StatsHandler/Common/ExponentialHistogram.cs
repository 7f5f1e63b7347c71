namespace StatsHandler;

/// <summary>
/// A histogram series' exponential buckets as read at one moment (<see cref="ExponentialReading"/>): one scale, the
/// count of zeros, and the counts of consecutive buckets from an offset per sign (OpenTelemetry's indexing: bucket
/// <c>i</c> holds magnitudes in <c>(base^i, base^(i+1)]</c>, <c>base = 2^(2^-Scale)</c>). Immutable.
/// </summary>
internal sealed class ExponentialHistogram
{
    /// <summary>A histogram with no observation, at the finest scale.</summary>
    public static ExponentialHistogram Empty { get; } = new(ExponentialScale.MaxScale, 0, 0, [], 0, []);

    public ExponentialHistogram(int scale, long zeroCount, int positiveOffset, long[] positive, int negativeOffset, long[] negative)
    {
        Scale = scale;
        ZeroCount = zeroCount;
        PositiveOffset = positiveOffset;
        Positive = positive;
        NegativeOffset = negativeOffset;
        Negative = negative;
        long count = zeroCount;
        foreach (long n in positive)
        {
            count += n;
        }

        foreach (long n in negative)
        {
            count += n;
        }

        Count = count;
    }

    /// <summary>The scale: <c>2^Scale</c> buckets per power of two (negative: one bucket spans <c>2^(2^-Scale)</c>).</summary>
    public int Scale { get; }

    /// <summary>Observations equal to zero.</summary>
    public long ZeroCount { get; }

    /// <summary>The index of <c>Positive[0]</c>.</summary>
    public int PositiveOffset { get; }

    /// <summary>Counts of positive observations per bucket from <see cref="PositiveOffset"/>, first and last non-zero.</summary>
    public long[] Positive { get; }

    /// <summary>The index of <c>Negative[0]</c> (buckets of the magnitude).</summary>
    public int NegativeOffset { get; }

    /// <summary>Counts of negative observations per bucket of their magnitude from <see cref="NegativeOffset"/>.</summary>
    public long[] Negative { get; }

    /// <summary>Finite observations in every bucket and the zero bucket (NaN and infinities are in none).</summary>
    public long Count { get; }
}

/// <summary>
/// Gathers the exponential windows of a series' cells and merges them into one <see cref="ExponentialHistogram"/>: at
/// the lowest scale any of them has, lowered further until each sign's range fits the bucket budget.
/// </summary>
internal sealed class ExponentialReading
{
    private readonly int _budget;
    private readonly List<(bool Positive, int Scale, int Index, long Count)> _entries = [];
    private long _zero;

    public ExponentialReading(int budget) => _budget = budget;

    /// <summary>Adds observations equal to zero.</summary>
    public void AddZero(long count) => _zero += count;

    /// <summary>Adds one window's counts, read once each.</summary>
    public void Add(bool positive, int scale, int offset, long[] counts)
    {
        for (int i = 0; i < counts.Length; i++)
        {
            long count = Volatile.Read(ref counts[i]);
            if (count != 0)
            {
                _entries.Add((positive, scale, offset + i, count));
            }
        }
    }

    /// <summary>The merged histogram.</summary>
    public ExponentialHistogram ToHistogram()
    {
        if (_entries.Count == 0)
        {
            return _zero == 0 ? ExponentialHistogram.Empty : new(ExponentialScale.MaxScale, _zero, 0, [], 0, []);
        }

        int scale = ExponentialScale.MaxScale;
        foreach (var entry in _entries)
        {
            scale = Math.Min(scale, entry.Scale);
        }

        while (scale > ExponentialScale.MinScale && (!Fits(true, scale) || !Fits(false, scale)))
        {
            scale--;
        }

        (int positiveOffset, long[] positive) = Buckets(true, scale);
        (int negativeOffset, long[] negative) = Buckets(false, scale);
        return new ExponentialHistogram(scale, _zero, positiveOffset, positive, negativeOffset, negative);
    }

    private bool Fits(bool positive, int scale)
    {
        (int low, int high, bool any) = Range(positive, scale);
        return !any || (long)high - low + 1 <= _budget;
    }

    private (int Low, int High, bool Any) Range(bool positive, int scale)
    {
        int low = int.MaxValue;
        int high = int.MinValue;
        foreach (var entry in _entries)
        {
            if (entry.Positive == positive)
            {
                int index = entry.Index >> (entry.Scale - scale);
                low = Math.Min(low, index);
                high = Math.Max(high, index);
            }
        }

        return (low, high, low <= high);
    }

    private (int Offset, long[] Counts) Buckets(bool positive, int scale)
    {
        (int low, int high, bool any) = Range(positive, scale);
        if (!any)
        {
            return (0, []);
        }

        var counts = new long[high - low + 1];
        foreach (var entry in _entries)
        {
            if (entry.Positive == positive)
            {
                counts[(entry.Index >> (entry.Scale - scale)) - low] += entry.Count;
            }
        }

        return (low, counts);
    }
}
