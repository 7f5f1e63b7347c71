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

    /// <summary>The mean observation, <paramref name="sum"/> over <paramref name="count"/>; NaN with no observation.</summary>
    public static double Mean(double sum, long count) => count > 0 ? sum / count : double.NaN;
}
