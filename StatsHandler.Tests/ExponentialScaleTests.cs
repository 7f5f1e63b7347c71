namespace StatsHandler.Tests;

public class ExponentialScaleTests
{
    [TestCase(0)]
    [TestCase(1)]
    [TestCase(3)]
    [TestCase(20)]
    public void A_power_of_two_closes_the_bucket_below_it_at_positive_scales(int scale)
    {
        for (int k = -1074; k <= 1023; k += 7)
        {
            double value = Math.ScaleB(1.0, k);
            ExponentialScale.IndexOf(value, scale).Should().Be((k << scale) - 1, "2^{0} at scale {1}", k, scale);
            if (k >= -1022 && k < 1023)
            {
                // The next double (normal range) is within the first bucket above 2^k even at scale 20.
                ExponentialScale.IndexOf(Math.BitIncrement(value), scale).Should().Be(k << scale, "just above 2^{0}", k);
            }
        }
    }

    [TestCase(-1)]
    [TestCase(-4)]
    [TestCase(-10)]
    public void Scales_below_zero_merge_powers_of_two_by_shifting(int scale)
    {
        for (int k = -1070; k <= 1023; k += 5)
        {
            double value = Math.ScaleB(1.0, k);
            ExponentialScale.IndexOf(value, scale).Should().Be((k - 1) >> -scale, "2^{0}", k);
            ExponentialScale.IndexOf(value * 1.5, scale).Should().Be(k >> -scale, "1.5 x 2^{0}", k);
        }
    }

    [TestCase(1.3, 1, 0)] // (1, 1.414]
    [TestCase(1.5, 1, 1)] // (1.414, 2]
    [TestCase(3.0, 1, 3)] // (2.828, 4]
    [TestCase(1.1, 2, 0)] // (1, 1.189]
    [TestCase(1.3, 2, 1)] // (1.189, 1.414]
    [TestCase(0.75, 2, -2)] // (0.707, 0.841]
    [TestCase(180_100.0, 4, 279)] // 2^(279/16) = 177,358 < 180,100 <= 2^(280/16) = 185,364
    [TestCase(4.9e-324, 0, -1075)] // the smallest subnormal, 2^-1074
    [TestCase(double.MaxValue, 0, 1023)]
    public void Values_land_in_the_bucket_computed_by_hand(double value, int scale, int expected) =>
        ExponentialScale.IndexOf(value, scale).Should().Be(expected);

    [Test]
    public void Every_value_lies_inside_the_bounds_of_its_bucket_at_every_scale()
    {
        var random = new Random(19);
        for (int n = 0; n < 20_000; n++)
        {
            int scale = random.Next(ExponentialScale.MinScale, ExponentialScale.MaxScale + 1);
            double value = Math.ScaleB(1 + random.NextDouble(), random.Next(-60, 60));
            int index = ExponentialScale.IndexOf(value, scale);
            ExponentialScale.LowerBound(index, scale).Should().BeLessThan(value, "{0} at scale {1}, bucket {2}", value, scale, index);
            ExponentialScale.LowerBound(index + 1, scale).Should().BeGreaterThanOrEqualTo(value, "{0} at scale {1}, bucket {2}", value, scale, index);
        }
    }

    [Test]
    public void Lowering_the_scale_by_one_halves_the_index()
    {
        var random = new Random(7);
        for (int n = 0; n < 5_000; n++)
        {
            int scale = random.Next(ExponentialScale.MinScale + 1, ExponentialScale.MaxScale + 1);
            double value = Math.ScaleB(1 + random.NextDouble(), random.Next(-300, 300));
            ExponentialScale.IndexOf(value, scale - 1).Should().Be(ExponentialScale.IndexOf(value, scale) >> 1, "{0} at scale {1}", value, scale);
        }
    }

    [TestCase(4, 0.0217)]
    [TestCase(3, 0.0433)]
    [TestCase(0, 0.3333)]
    public void The_relative_error_of_a_bucket_middle_is_base_minus_one_over_base_plus_one(int scale, double expected) =>
        ExponentialScale.RelativeError(scale).Should().BeApproximately(expected, 0.0001);
}
