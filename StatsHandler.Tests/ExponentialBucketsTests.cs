namespace StatsHandler.Tests;

public class ExponentialBucketsTests
{
    [Test]
    public void One_value_stays_at_the_finest_scale()
    {
        var buckets = new ExponentialBuckets(160);
        buckets.Record(3.0);
        buckets.Record(3.0);

        ExponentialHistogram read = Read(buckets, 160);

        read.Scale.Should().Be(20);
        read.PositiveOffset.Should().Be(ExponentialScale.IndexOf(3.0, 20));
        read.Positive.Should().Equal(2);
        read.Count.Should().Be(2);
    }

    [TestCase(1.0, 1000.0, 160)]
    [TestCase(1_000.0, 200_000.0, 160)]
    [TestCase(0.001, 10.0, 20)]
    [TestCase(1e-300, 1e300, 160)]
    public void A_spread_of_values_is_kept_at_the_highest_scale_whose_range_fits_the_budget(double low, double high, int budget)
    {
        var buckets = new ExponentialBuckets(budget);
        var random = new Random(3);
        var values = new List<double> { low, high };
        for (int i = 0; i < 2000; i++)
        {
            values.Add(Math.Exp(Math.Log(low) + (random.NextDouble() * (Math.Log(high) - Math.Log(low)))));
        }

        foreach (double value in values)
        {
            buckets.Record(value);
        }

        ExponentialHistogram read = Read(buckets, budget);

        int expectedScale = ExponentialScale.MaxScale;
        while (ExponentialScale.IndexOf(high, expectedScale) - ExponentialScale.IndexOf(low, expectedScale) + 1 > budget)
        {
            expectedScale--;
        }

        read.Scale.Should().Be(expectedScale);
        read.Positive.Length.Should().BeLessThanOrEqualTo(budget);
        read.PositiveOffset.Should().Be(ExponentialScale.IndexOf(low, expectedScale));
        var expected = new long[read.Positive.Length];
        foreach (double value in values)
        {
            expected[ExponentialScale.IndexOf(value, expectedScale) - read.PositiveOffset]++;
        }

        read.Positive.Should().Equal(expected);
    }

    [Test]
    public void A_value_far_outside_the_range_downscales_and_keeps_every_count()
    {
        var buckets = new ExponentialBuckets(160);
        for (int i = 0; i < 100; i++)
        {
            buckets.Record(1.0 + (i / 100.0));
        }

        ExponentialHistogram before = Read(buckets, 160);
        buckets.Record(1e12);
        ExponentialHistogram after = Read(buckets, 160);

        before.Scale.Should().BeGreaterThan(after.Scale);
        after.Count.Should().Be(101);
        after.Positive[^1].Should().Be(1, "1e12 alone in the highest bucket");
        after.PositiveOffset.Should().Be(ExponentialScale.IndexOf(1.0, after.Scale));
        (after.Positive.Length - 1 + after.PositiveOffset).Should().Be(ExponentialScale.IndexOf(1e12, after.Scale));
        after.Positive.Length.Should().BeLessThanOrEqualTo(160);
    }

    [Test]
    public void Zeros_negatives_and_non_finite_values_are_counted_as_their_own()
    {
        var buckets = new ExponentialBuckets(160);
        foreach (double value in new[] { 0.0, -0.0, -4.0, -4.0, -1.5, 4.0, double.NaN, double.PositiveInfinity, double.NegativeInfinity })
        {
            buckets.Record(value);
        }

        ExponentialHistogram read = Read(buckets, 160);

        read.ZeroCount.Should().Be(2);
        read.Positive.Sum().Should().Be(1);
        read.Negative.Sum().Should().Be(3);
        read.Count.Should().Be(6, "NaN and the infinities are in no bucket");
        int scale = read.Scale;
        read.Negative[ExponentialScale.IndexOf(4.0, scale) - read.NegativeOffset].Should().Be(2);
        read.Negative[ExponentialScale.IndexOf(1.5, scale) - read.NegativeOffset].Should().Be(1);
    }

    [Test]
    public void Threads_that_race_a_downscale_lose_no_count()
    {
        for (int round = 0; round < 20; round++)
        {
            var buckets = new ExponentialBuckets(160);
            const int PerThread = 20_000;
            var threads = new Thread[4];
            using var start = new ManualResetEventSlim();
            for (int t = 0; t < threads.Length; t++)
            {
                int seed = (round * 10) + t;
                threads[t] = new Thread(() =>
                {
                    var random = new Random(seed);
                    start.Wait();
                    for (int i = 0; i < PerThread; i++)
                    {
                        // A range that keeps widening, so windows are replaced while the others count.
                        buckets.Record(Math.ScaleB(1 + random.NextDouble(), random.Next(-(i / 200), (i / 200) + 1)));
                    }
                });
                threads[t].Start();
            }

            start.Set();
            foreach (Thread thread in threads)
            {
                thread.Join(TimeSpan.FromSeconds(30)).Should().BeTrue();
            }

            ExponentialHistogram read = Read(buckets, 160);
            read.Count.Should().Be(threads.Length * PerThread, "round {0}", round);
            read.Positive.Length.Should().BeLessThanOrEqualTo(160);
        }
    }

    private static ExponentialHistogram Read(ExponentialBuckets buckets, int budget)
    {
        var reading = new ExponentialReading(budget);
        buckets.AddTo(reading);
        return reading.ToHistogram();
    }
}
