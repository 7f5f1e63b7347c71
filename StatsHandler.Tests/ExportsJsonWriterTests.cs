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
            series.GetProperty("p50").GetDouble().Should().Be(10, "rank 10 of 20 ends the (0, 10] bucket");
            series.GetProperty("p90").GetDouble().Should().Be(90, "rank 18 is eight tenths into (50, 100]");
            series.GetProperty("p99").GetDouble().Should().Be(99);
            string.Join(",", series.EnumerateObject().Select(p => p.Name)).Should().Be("tags,count,sum,mean,p50,p90,p99,bucket_counts");
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

            body.Should().Contain("\"p90\":94.5455,", "rank 10.8 is 9.8/11 into (50, 100]: 94.545454...");
            body.Should().Contain("\"p90\":189091,", "189090.909... to six digits");
            body.Should().Contain("\"p90\":18909100,", "18909090.9... to six digits");
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
