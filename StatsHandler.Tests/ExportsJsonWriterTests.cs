using System.Globalization;
using System.Diagnostics.Metrics;
using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

public class ExportsJsonWriterTests
{
    private static async Task<(StatsServer Server, HttpClient Client)> StartAsync(Meter meter)
    {
        StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats").ExportMeters(meter.Name));
        return (server, TestServers.Client(server));
    }

    [Test]
    public async Task Histogram_series_carry_the_mean_and_quantiles_estimated_from_the_buckets()
    {
        using var meter = new Meter($"Json.{Guid.NewGuid():N}");
        Histogram<double> latency = meter.CreateHistogram<double>(
            "latency", "ms", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [10, 50, 100] });
        (StatsServer server, HttpClient client) = await StartAsync(meter);
        await using (server)
        using (client)
        {
            for (int i = 0; i < 10; i++)
            {
                latency.Record(5);
                latency.Record(70);
            }

            JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats");

            JsonElement series = json.GetProperty("meters")[0].GetProperty("series")[0];
            series.GetProperty("mean").GetDouble().Should().Be(37.5);

            // 5 and 70 are 3.8 powers of two apart: 123 buckets at scale 5 (246 at scale 6, over the 160 budget).
            JsonElement exponential = series.GetProperty("exponential");
            exponential.GetProperty("scale").GetInt32().Should().Be(5);
            exponential.GetProperty("positive_offset").GetInt32().Should().Be(ExponentialScale.IndexOf(5, 5));
            long[] positive = [.. exponential.GetProperty("positive").EnumerateArray().Select(e => e.GetInt64())];
            positive.Should().HaveCount(ExponentialScale.IndexOf(70, 5) - ExponentialScale.IndexOf(5, 5) + 1);
            (positive[0], positive[^1], positive.Sum()).Should().Be((10, 10, 20));

            // Rank 10 of 20 ends the bucket of 5; ranks 18 and 19.8 are inside the bucket of 70, whatever the classic bounds say.
            double width = Math.Pow(2, 1.0 / 32);
            series.GetProperty("p50").GetDouble().Should().BeApproximately(ExponentialScale.LowerBound(ExponentialScale.IndexOf(5, 5) + 1, 5), 0.0001);
            series.GetProperty("p90").GetDouble().Should().BeInRange(70 / width, 70 * width);
            series.GetProperty("p99").GetDouble().Should().BeInRange(70 / width, 70 * width);
            string.Join(",", series.EnumerateObject().Select(p => p.Name)).Should().Be("tags,count,sum,mean,p50,p90,p99,bucket_counts,exponential");
            string.Join(",", exponential.EnumerateObject().Select(p => p.Name)).Should().Be("scale,zero_count,positive_offset,positive,negative_offset,negative");
        }
    }

    [Test]
    public async Task Estimates_keep_six_significant_digits()
    {
        using var meter = new Meter($"Json.{Guid.NewGuid():N}");
        Histogram<double> small = meter.CreateHistogram<double>(
            "small", "ms", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [10, 50, 100] });
        Histogram<double> large = meter.CreateHistogram<double>(
            "large", "By", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [100_000, 200_000] });
        Histogram<double> huge = meter.CreateHistogram<double>(
            "huge", "By", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1e7, 2e7] });
        (StatsServer server, HttpClient client) = await StartAsync(meter);
        await using (server)
        using (client)
        {
            small.Record(5);
            large.Record(50_000);
            huge.Record(5e6);
            for (int i = 0; i < 11; i++)
            {
                small.Record(70);
                large.Record(150_000);
                huge.Record(1.5e7);
            }

            string body = await client.GetStringAsync("/api/stats");

            string[] p90s = [.. System.Text.RegularExpressions.Regex.Matches(body, "\"p90\":([0-9.]+),").Select(m => m.Groups[1].Value)];
            p90s.Should().HaveCount(3);
            foreach (string p90 in p90s)
            {
                p90.Replace(".", string.Empty, StringComparison.Ordinal).TrimStart('0').TrimEnd('0').Length.Should().BeLessThanOrEqualTo(6, p90);
            }

            // Each p90 lies in the bucket of the value recorded eleven times: within 2^(1/64) at scale 6, 2^(1/32) at 5.
            double.Parse(p90s[0], CultureInfo.InvariantCulture).Should().BeInRange(70 / 1.022, 70 * 1.022);
            double.Parse(p90s[1], CultureInfo.InvariantCulture).Should().BeInRange(150_000 / 1.011, 150_000 * 1.011);
            double.Parse(p90s[2], CultureInfo.InvariantCulture).Should().BeInRange(1.5e7 / 1.011, 1.5e7 * 1.011);
        }
    }

    [Test]
    public async Task Pretty_printing_keeps_bounds_and_bucket_counts_on_one_line()
    {
        using var meter = new Meter($"Json.{Guid.NewGuid():N}");
        Histogram<double> sizes = meter.CreateHistogram<double>(
            "sizes", "By", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1000, 1e21] });
        (StatsServer server, HttpClient client) = await StartAsync(meter);
        await using (server)
        using (client)
        {
            sizes.Record(700);
            sizes.Record(2000);

            string pretty = await client.GetStringAsync("/api/stats?pp=1");
            string compact = await client.GetStringAsync("/api/stats");

            pretty.Should().Contain("\"bounds\": [0.5,1000,1E+21],").And.Contain("\"bucket_counts\": [0,1,1,0]");
            using JsonDocument doc = JsonDocument.Parse(compact);
            JsonElement histogram = doc.RootElement.GetProperty("meters")[0];
            histogram.GetProperty("bounds").EnumerateArray().Select(b => b.GetDouble()).Should().Equal(0.5, 1000, 1e21);
            histogram.GetProperty("series")[0].GetProperty("bucket_counts").EnumerateArray().Select(c => c.GetInt64())
                .Should().Equal(0, 1, 1, 0);
        }
    }

    [Test]
    public async Task Many_bounds_are_written_whole()
    {
        using var meter = new Meter($"Json.{Guid.NewGuid():N}");
        double[] bounds = Enumerable.Range(1, 100).Select(i => i * 1.0000000001).ToArray();
        Histogram<double> wide = meter.CreateHistogram<double>(
            "wide", "s", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = bounds });
        (StatsServer server, HttpClient client) = await StartAsync(meter);
        await using (server)
        using (client)
        {
            wide.Record(1);

            JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats?pp=1");

            json.GetProperty("meters")[0].GetProperty("bounds").EnumerateArray().Select(b => b.GetDouble()).Should().Equal(bounds);
        }
    }
}
