using System.Diagnostics.Metrics;
using System.Numerics;

namespace StatsHandler;

/// <summary>Chooses a histogram's bucket bounds and finds a value's bucket.</summary>
internal static class HistogramBounds
{
    /// <summary>OpenTelemetry's default bucket bounds, for histograms with no advice and a unit other than seconds.</summary>
    private static readonly double[] DefaultBounds = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    /// <summary>Prometheus's default bucket bounds, for histograms in seconds with no advice.</summary>
    private static readonly double[] DefaultSecondsBounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>
    /// The instrument's advised bounds (finite, increasing, distinct), or the defaults for its unit. Upper bounds in the
    /// instrument's unit; the <c>+Inf</c> bucket is implied.
    /// </summary>
    public static double[] For(Instrument instrument)
    {
        IReadOnlyList<double>? advised = instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries,
            Histogram<float> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
            Histogram<long> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
            Histogram<int> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
            Histogram<short> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
            Histogram<byte> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
            Histogram<decimal> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
            _ => null,
        };

        if (advised is not null)
        {
            // Advice is the instrument author's; keep what makes valid buckets (finite, increasing, distinct).
            var bounds = new SortedSet<double>();
            foreach (double bound in advised)
            {
                if (double.IsFinite(bound))
                {
                    bounds.Add(bound);
                }
            }

            if (bounds.Count > 0)
            {
                return [.. bounds];
            }
        }

        return instrument.Unit == "s" ? DefaultSecondsBounds : DefaultBounds;
    }

    /// <summary>
    /// The bucket of <paramref name="value"/>: the first bound it does not exceed, or <c>bounds.Length</c> (<c>+Inf</c>).
    /// NaN is below or above nothing: it counts in the <c>+Inf</c> bucket only, so that bucket still equals the count.
    /// </summary>
    public static int IndexOf(double[] bounds, double value)
    {
        if (bounds.Length > 16)
        {
            if (double.IsNaN(value))
            {
                return bounds.Length;
            }

            int index = Array.BinarySearch(bounds, value);
            return index >= 0 ? index : ~index;
        }

        // A short scan beats a binary search on the usual dozen bounds; NaN fails every comparison and lands in +Inf.
        int i = 0;
        while (i < bounds.Length && !(value <= bounds[i]))
        {
            i++;
        }

        return i;
    }

    private static double[]? ToDoubles<T>(IReadOnlyList<T>? bounds)
        where T : struct, INumberBase<T>
    {
        if (bounds is null)
        {
            return null;
        }

        var result = new double[bounds.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = double.CreateSaturating(bounds[i]);
        }

        return result;
    }
}
