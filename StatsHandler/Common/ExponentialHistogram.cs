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
        Count = View.Count;
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

    /// <summary>The same buckets as a view, the shape a capture and the formats read.</summary>
    public ExponentialView View => new(Scale, ZeroCount, PositiveOffset, Positive, NegativeOffset, Negative);

    /// <summary>The histogram as a view (<see cref="View"/>).</summary>
    public static implicit operator ExponentialView(ExponentialHistogram histogram) => histogram.View;
}

/// <summary>
/// A histogram series' exponential buckets as <see cref="ExponentialHistogram"/> has them, but with each sign's counts
/// a slice of an array someone else owns: a capture keeps every series' counts in one array of its pooled snapshot, so
/// reading them allocates nothing. Valid only as long as its owner keeps that array as it is.
/// </summary>
internal readonly struct ExponentialView
{
    private readonly long[]? _positive;
    private readonly int _positiveStart;
    private readonly int _positiveLength;
    private readonly long[]? _negative;
    private readonly int _negativeStart;
    private readonly int _negativeLength;

    public ExponentialView(int scale, long zeroCount, int positiveOffset, long[] positive, int negativeOffset, long[] negative)
        : this(scale, zeroCount, positiveOffset, positive, 0, positive.Length, negativeOffset, negative, 0, negative.Length)
    {
    }

    public ExponentialView(int scale, long zeroCount, int positiveOffset, long[] positive, int positiveStart, int positiveLength, int negativeOffset, long[] negative, int negativeStart, int negativeLength)
    {
        Scale = scale;
        ZeroCount = zeroCount;
        PositiveOffset = positiveOffset;
        _positive = positive;
        _positiveStart = positiveStart;
        _positiveLength = positiveLength;
        NegativeOffset = negativeOffset;
        _negative = negative;
        _negativeStart = negativeStart;
        _negativeLength = negativeLength;
    }

    /// <summary>The scale (<see cref="ExponentialHistogram.Scale"/>); 0 for the default view, which has no bucket.</summary>
    public int Scale { get; }

    /// <summary>Observations equal to zero.</summary>
    public long ZeroCount { get; }

    /// <summary>The index of <c>Positive[0]</c>.</summary>
    public int PositiveOffset { get; }

    /// <summary>Counts of positive observations per bucket from <see cref="PositiveOffset"/>.</summary>
    public ReadOnlySpan<long> Positive => _positive is null ? default : _positive.AsSpan(_positiveStart, _positiveLength);

    /// <summary>The index of <c>Negative[0]</c> (buckets of the magnitude).</summary>
    public int NegativeOffset { get; }

    /// <summary>Counts of negative observations per bucket of their magnitude from <see cref="NegativeOffset"/>.</summary>
    public ReadOnlySpan<long> Negative => _negative is null ? default : _negative.AsSpan(_negativeStart, _negativeLength);

    /// <summary>Finite observations in every bucket and the zero bucket.</summary>
    public long Count
    {
        get
        {
            long count = ZeroCount;
            foreach (long n in Positive)
            {
                count += n;
            }

            foreach (long n in Negative)
            {
                count += n;
            }

            return count;
        }
    }
}

/// <summary>
/// Gathers the exponential windows of a series' cells and merges them into one <see cref="ExponentialHistogram"/>: at
/// the lowest scale any of them has, lowered further until each sign's range fits the bucket budget. A capture reuses
/// one for every series (<see cref="Reset"/>, <see cref="CopyTo"/>), so its list grows once and then allocates nothing.
/// </summary>
internal sealed class ExponentialReading
{
    private readonly List<(bool Positive, int Scale, int Index, long Count)> _entries = [];
    private int _budget;
    private long _zero;

    public ExponentialReading(int budget) => _budget = budget;

    /// <summary>Empties the reading for another series, whose budget is <paramref name="budget"/>.</summary>
    public void Reset(int budget)
    {
        _entries.Clear();
        _zero = 0;
        _budget = budget;
    }

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

    /// <summary>The merged histogram, in arrays of its own.</summary>
    public ExponentialHistogram ToHistogram()
    {
        if (_entries.Count == 0)
        {
            return _zero == 0 ? ExponentialHistogram.Empty : new(ExponentialScale.MaxScale, _zero, 0, [], 0, []);
        }

        int scale = MergedScale();
        (int positiveOffset, int positiveLength) = Slice(true, scale);
        (int negativeOffset, int negativeLength) = Slice(false, scale);
        var positive = new long[positiveLength];
        var negative = new long[negativeLength];
        Fill(true, scale, positiveOffset, positive);
        Fill(false, scale, negativeOffset, negative);
        return new ExponentialHistogram(scale, _zero, positiveOffset, positive, negativeOffset, negative);
    }

    /// <summary>
    /// The merged histogram with its counts appended to <paramref name="store"/> from <paramref name="used"/> on (the
    /// array grown when short, <paramref name="used"/> moved past them): what <see cref="ToHistogram"/> returns, without
    /// an allocation once the array is large enough.
    /// </summary>
    public ExponentialView CopyTo(ref long[] store, ref int used)
    {
        if (_entries.Count == 0)
        {
            return _zero == 0 ? ExponentialHistogram.Empty.View : new ExponentialView(ExponentialScale.MaxScale, _zero, 0, [], 0, []);
        }

        int scale = MergedScale();
        (int positiveOffset, int positiveLength) = Slice(true, scale);
        (int negativeOffset, int negativeLength) = Slice(false, scale);
        int positiveStart = used;
        int negativeStart = used + positiveLength;
        used = negativeStart + negativeLength;
        if (used > store.Length)
        {
            Array.Resize(ref store, Math.Max(used, Math.Max(256, store.Length * 2)));
        }

        Fill(true, scale, positiveOffset, store.AsSpan(positiveStart, positiveLength));
        Fill(false, scale, negativeOffset, store.AsSpan(negativeStart, negativeLength));
        return new ExponentialView(scale, _zero, positiveOffset, store, positiveStart, positiveLength, negativeOffset, store, negativeStart, negativeLength);
    }

    private int MergedScale()
    {
        int scale = ExponentialScale.MaxScale;
        foreach (var entry in _entries)
        {
            scale = Math.Min(scale, entry.Scale);
        }

        while (scale > ExponentialScale.MinScale && (!Fits(true, scale) || !Fits(false, scale)))
        {
            scale--;
        }

        return scale;
    }

    private bool Fits(bool positive, int scale) => Range(positive, scale).Length <= _budget;

    // After MergedScale each sign's range fits the budget, an int.
    private (int Offset, int Length) Slice(bool positive, int scale)
    {
        (int offset, long length) = Range(positive, scale);
        return (offset, (int)length);
    }

    /// <summary>The first bucket at <paramref name="scale"/> with a count of this sign, and how many buckets to the last; 0 and 0 when none.</summary>
    private (int Offset, long Length) Range(bool positive, int scale)
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

        return low <= high ? (low, (long)high - low + 1) : (0, 0);
    }

    /// <summary>Writes this sign's counts at <paramref name="scale"/> into <paramref name="counts"/>, bucket <paramref name="offset"/> first.</summary>
    private void Fill(bool positive, int scale, int offset, Span<long> counts)
    {
        counts.Clear();
        foreach (var entry in _entries)
        {
            if (entry.Positive == positive)
            {
                counts[(entry.Index >> (entry.Scale - scale)) - offset] += entry.Count;
            }
        }
    }
}
