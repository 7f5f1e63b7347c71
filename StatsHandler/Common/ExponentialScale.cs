using System.Numerics;

namespace StatsHandler;

/// <summary>
/// The base-2 exponential bucket layout of OpenTelemetry's exponential histogram and Prometheus's native histograms:
/// at scale <c>s</c> the base is <c>2^(2^-s)</c>, and bucket <c>i</c> holds the magnitudes in
/// <c>(base^i, base^(i+1)]</c>. Lowering the scale by one merges buckets <c>2k</c> and <c>2k+1</c> into bucket
/// <c>k</c>, so an index moves to a lower scale by an arithmetic shift.
/// </summary>
/// <remarks>
/// Prometheus numbers the same bucket one higher (its bucket <c>i</c> is <c>(base^(i-1), base^i]</c>); its writer
/// adds the one. The scale range is OpenTelemetry's: 20 down to -10 (at -10 every finite double fits in three buckets).
/// </remarks>
internal static class ExponentialScale
{
    /// <summary>The finest scale: 2^20 buckets per power of two.</summary>
    public const int MaxScale = 20;

    /// <summary>The coarsest scale: a bucket spans a factor of 2^1024.</summary>
    public const int MinScale = -10;

    /// <summary>The default most buckets per sign, as OpenTelemetry's default <c>MaxSize</c>.</summary>
    public const int DefaultBudget = 160;

    private const long SignificandMask = (1L << 52) - 1;

    /// <summary>The highest scale read from <see cref="Boundaries"/> instead of a logarithm.</summary>
    private const int TableScale = 6;

    /// <summary>
    /// By scale 1 to <see cref="TableScale"/>: the significand bits of the bucket boundaries inside one power of two,
    /// <c>2^(k/2^scale)</c> for k = 1 .. 2^scale - 1. Immutable once built.
    /// </summary>
    private static readonly long[][] Boundaries = BuildBoundaries();

    /// <summary>The multiplier of <c>ln(v)</c> that gives a bucket position at <paramref name="scale"/>: <c>2^scale / ln 2</c>.</summary>
    public static double LogFactor(int scale) => Math.ScaleB(1 / Math.Log(2), scale);

    /// <summary>The bucket at <paramref name="scale"/> of a positive finite <paramref name="magnitude"/>.</summary>
    public static int IndexOf(double magnitude, int scale) => IndexOf(magnitude, scale, LogFactor(scale));

    /// <summary>
    /// The bucket at <paramref name="scale"/> of a positive finite <paramref name="magnitude"/>, given
    /// <see cref="LogFactor"/> of the scale. Exact at powers of two (a power of two closes its bucket) and for every
    /// scale up to zero (read from the exponent bits); up to 6 from a table of boundaries; above, one logarithm, clamped to
    /// the value's power of two.
    /// </summary>
    public static int IndexOf(double magnitude, int scale, double logFactor)
    {
        long bits = BitConverter.DoubleToInt64Bits(magnitude);
        int biased = (int)(bits >> 52) & 0x7FF;
        long significand = bits & SignificandMask;
        int exponent;
        bool powerOfTwo;
        if (biased == 0)
        {
            // Subnormal: the exponent is where the highest set bit is.
            int top = 63 - BitOperations.LeadingZeroCount((ulong)significand);
            exponent = top - 1074;
            powerOfTwo = (significand & (significand - 1)) == 0;
        }
        else
        {
            exponent = biased - 1023;
            powerOfTwo = significand == 0;
        }

        if (scale <= 0)
        {
            // Bucket of 2^exponent itself is the one below (upper bounds are inclusive).
            return (powerOfTwo ? exponent - 1 : exponent) >> -scale;
        }

        if (powerOfTwo)
        {
            return (exponent << scale) - 1;
        }

        if (scale <= TableScale && biased != 0)
        {
            // The significand read as a straight line from 1 to 2 never passes the curve 2^x: its top bits give a first
            // bucket at or below the right one, at most 2^scale / 11 + 1 short of it, and the table finishes the count.
            long[] boundaries = Boundaries[scale];
            int sub = (int)(significand >> (52 - scale));
            while (sub < boundaries.Length && boundaries[sub] < significand)
            {
                sub++;
            }

            return (exponent << scale) + sub;
        }

        // The logarithm can be one off near a bucket edge, never outside the value's own power of two.
        int index = (int)Math.Ceiling(Math.Log(magnitude) * logFactor) - 1;
        int first = exponent << scale;
        int last = first + (1 << scale) - 1;
        return Math.Clamp(index, first, last);
    }

    private static long[][] BuildBoundaries()
    {
        var tables = new long[TableScale + 1][];
        tables[0] = [];
        for (int scale = 1; scale <= TableScale; scale++)
        {
            var table = new long[(1 << scale) - 1];
            for (int k = 1; k <= table.Length; k++)
            {
                table[k - 1] = BitConverter.DoubleToInt64Bits(Math.Pow(2, Math.ScaleB((double)k, -scale))) & SignificandMask;
            }

            tables[scale] = table;
        }

        return tables;
    }

    /// <summary>The lower (exclusive) end of bucket <paramref name="index"/> at <paramref name="scale"/>: <c>base^index</c>.</summary>
    public static double LowerBound(int index, int scale) =>
        scale <= 0 ? Math.ScaleB(1.0, index << -scale) : Math.Pow(2, Math.ScaleB((double)index, -scale));

    /// <summary>The relative error of a value read as its bucket's middle: <c>(base - 1) / (base + 1)</c>.</summary>
    public static double RelativeError(int scale)
    {
        double bucketBase = Math.Pow(2, Math.ScaleB(1.0, -scale));
        return (bucketBase - 1) / (bucketBase + 1);
    }
}
