namespace StatsHandler.Tests;

public class HistogramEstimatesTests
{
    private static readonly double[] Bounds = [10, 50, 100];

    [TestCase(0.5, 10, TestName = "The median of ten in (0, 10] and ten in (50, 100] is the first bucket's top")]
    [TestCase(0.9, 90, TestName = "p90 is eight tenths of the way through the (50, 100] bucket")]
    [TestCase(0.99, 99, TestName = "p99 is 98 percent of the way through the (50, 100] bucket")]
    [TestCase(0.25, 5, TestName = "The lowest bucket is taken to start at zero")]
    public void Quantiles_interpolate_linearly_inside_the_bucket_that_holds_the_rank(double q, double expected)
    {
        HistogramEstimates.Quantile(q, Bounds, [10, 0, 10, 0]).Should().BeApproximately(expected, 1e-9);
    }

    [Test]
    public void A_quantile_above_the_highest_bound_is_reported_as_that_bound_as_prometheus_does()
    {
        HistogramEstimates.Quantile(0.99, Bounds, [1, 0, 0, 99]).Should().Be(100);
    }

    [Test]
    public void Empty_buckets_between_the_observations_are_skipped()
    {
        HistogramEstimates.Quantile(0.5, Bounds, [0, 0, 4, 0]).Should().BeApproximately(75, 1e-9, "rank 2 of 4 in (50, 100]");
    }

    [Test]
    public void A_first_bound_at_or_below_zero_is_the_answer_for_its_bucket()
    {
        HistogramEstimates.Quantile(0.5, [-5, 0, 5], [3, 0, 0, 0]).Should().Be(-5);
    }

    [Test]
    public void No_observation_no_bounds_or_mismatched_counts_give_nan()
    {
        HistogramEstimates.Quantile(0.5, Bounds, [0, 0, 0, 0]).Should().Be(double.NaN);
        HistogramEstimates.Quantile(0.5, [], [5]).Should().Be(double.NaN);
        HistogramEstimates.Quantile(0.5, Bounds, [1, 2]).Should().Be(double.NaN);
    }

    [Test]
    public void The_mean_is_the_sum_over_the_count_and_nan_without_observations()
    {
        HistogramEstimates.Mean(30, 4).Should().Be(7.5);
        HistogramEstimates.Mean(0, 0).Should().Be(double.NaN);
    }

    [Test]
    public void Exponential_quantiles_walk_negative_buckets_then_zeros_then_positive_ones()
    {
        var buckets = new ExponentialBuckets(160);
        for (int i = 0; i < 5; i++)
        {
            buckets.Record(-10);
            buckets.Record(0);
            buckets.Record(10);
            buckets.Record(10);
        }

        var reading = new ExponentialReading(160);
        buckets.AddTo(reading);
        ExponentialHistogram histogram = reading.ToHistogram();
        double width = Math.Pow(2, Math.Pow(2, -histogram.Scale));

        HistogramEstimates.Quantile(0.1, histogram).Should().BeInRange(-10 * width, -10 / width);
        HistogramEstimates.Quantile(0.5, histogram).Should().Be(0, "ranks 6 to 10 are the zeros");
        HistogramEstimates.Quantile(0.9, histogram).Should().BeInRange(10 / width, 10 * width);
        HistogramEstimates.Quantile(0.9, ExponentialHistogram.Empty).Should().Be(double.NaN);
    }
}
