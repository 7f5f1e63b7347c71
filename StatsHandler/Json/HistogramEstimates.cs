namespace StatsHandler;

/// <summary>
/// Estimates a histogram's quantiles from its bucket counts the way Prometheus's <c>histogram_quantile</c> does: find
/// the bucket that holds the q-th observation and interpolate linearly inside it. The answer has the resolution of the
/// buckets: every observation between two bounds is assumed spread evenly between them.
/// </summary>
/// <remarks>
/// Takes plain arrays, not an instrument, so any snapshot of bounds and counts can use it. The dashboard's script
/// applies the same rules to the counts gained between two polls.
/// </remarks>
internal static class HistogramEstimates
{
    /// <summary>
    /// The estimated <paramref name="q"/>-quantile, or NaN when there is no observation or no finite bound.
    /// </summary>
    /// <param name="q">The quantile, 0 to 1 (0.99 for p99).</param>
    /// <param name="bounds">Upper bounds of the finite buckets, increasing.</param>
    /// <param name="counts">Observations per bucket, not cumulative: one per bound, then the one above the highest bound.</param>
    /// <remarks>
    /// As in Prometheus: the lowest bucket starts at 0 when its bound is positive (else its bound is the answer), and a
    /// quantile that falls above the highest bound is reported as that bound, since the top bucket has no upper end.
    /// </remarks>
    public static double Quantile(double q, ReadOnlySpan<double> bounds, ReadOnlySpan<long> counts)
    {
        if (bounds.IsEmpty || counts.Length != bounds.Length + 1 || double.IsNaN(q))
        {
            return double.NaN;
        }

        long total = 0;
        foreach (long count in counts)
        {
            total += count;
        }

        if (total <= 0)
        {
            return double.NaN;
        }

        double rank = Math.Clamp(q, 0, 1) * total;
        long below = 0;
        for (int i = 0; i < bounds.Length; i++)
        {
            long inBucket = counts[i];
            if (below + inBucket >= rank && inBucket > 0)
            {
                if (i == 0 && bounds[0] <= 0)
                {
                    return bounds[0];
                }

                double start = i == 0 ? 0 : bounds[i - 1];
                return start + ((bounds[i] - start) * ((rank - below) / inBucket));
            }

            below += inBucket;
        }

        return bounds[^1];
    }

    /// <summary>
    /// The estimated <paramref name="q"/>-quantile of the finite observations in <paramref name="histogram"/>'s
    /// exponential buckets, or NaN when it has none: the bucket holding the q-th observation (negative buckets from the
    /// most negative, then the zero bucket, then the positive ones), interpolated linearly inside it, as Prometheus's
    /// <c>histogram_quantile</c> reads a native histogram. The estimate and the true quantile share a bucket, so they
    /// differ by less than a factor <c>2^(2^-scale)</c> (see docs/json.md).
    /// </summary>
    public static double Quantile(double q, ExponentialHistogram histogram)
    {
        long total = histogram.Count;
        if (total <= 0 || double.IsNaN(q))
        {
            return double.NaN;
        }

        double rank = Math.Clamp(q, 0, 1) * total;
        long below = 0;
        long[] negative = histogram.Negative;
        for (int i = negative.Length - 1; i >= 0; i--)
        {
            if (Inside(rank, ref below, negative[i], out double share))
            {
                int index = histogram.NegativeOffset + i;
                double upper = -ExponentialScale.LowerBound(index + 1, histogram.Scale);
                return upper + ((-ExponentialScale.LowerBound(index, histogram.Scale) - upper) * share);
            }
        }

        if (Inside(rank, ref below, histogram.ZeroCount, out _))
        {
            return 0;
        }

        long[] positive = histogram.Positive;
        for (int i = 0; i < positive.Length; i++)
        {
            if (Inside(rank, ref below, positive[i], out double share))
            {
                int index = histogram.PositiveOffset + i;
                double lower = ExponentialScale.LowerBound(index, histogram.Scale);
                return lower + ((ExponentialScale.LowerBound(index + 1, histogram.Scale) - lower) * share);
            }
        }

        return positive.Length > 0
            ? ExponentialScale.LowerBound(histogram.PositiveOffset + positive.Length, histogram.Scale)
            : 0;
    }

    /// <summary>True when the observation of <paramref name="rank"/> is among the next <paramref name="count"/>; its place among them.</summary>
    private static bool Inside(double rank, ref long below, long count, out double share)
    {
        if (count > 0 && below + count >= rank)
        {
            share = (rank - below) / count;
            return true;
        }

        below += count;
        share = 0;
        return false;
    }

    /// <summary>The mean observation, <paramref name="sum"/> over <paramref name="count"/>; NaN with no observation.</summary>
    public static double Mean(double sum, long count) => count > 0 ? sum / count : double.NaN;
}
