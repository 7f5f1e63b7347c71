using System.Diagnostics.Metrics;
using System.Text.Json;
using StatsHandler.LineProtocol;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>
/// The format seam from outside: samples/StatsHandler.LineProtocol writes a format against the public API only and is
/// mounted like the built-in ones. These tests serve it from a real server and read its values back.
/// </summary>
public class LineProtocolWriterTests
{
    [Test]
    public async Task A_format_written_outside_the_library_serves_the_same_snapshot_the_built_in_formats_serve()
    {
        using var meter = new Meter($"Influx.{Guid.NewGuid():N}");
        Counter<long> orders = meter.CreateCounter<long>("orders");
        Histogram<double> latency = meter.CreateHistogram<double>("latency", "ms", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [10, 100] });
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats")
            .Handle("/influx", new LineProtocolWriter())
            .ExportMeters(meter.Name)
            .Publish("queue_depth", () => 7L)
            .Publish("ready", () => true)
            .Publish("build", () => "1.2 \"rc\"")
            .AddConstantLabel("service", "orders"));
        orders.Add(5, new KeyValuePair<string, object?>("route", "/check out"));
        latency.Record(4);
        latency.Record(40);
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage response = await client.GetAsync("/influx");
        string body = await response.Content.ReadAsStringAsync();
        JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats");

        response.StatusCode.Should().Be(System.Net.HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("text/plain; charset=utf-8");
        response.Content.Headers.ContentLength.Should().Be(System.Text.Encoding.UTF8.GetByteCount(body));
        string[] lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string runtime = lines.Should().ContainSingle(l => l.StartsWith("dotnet_runtime,service=orders ", StringComparison.Ordinal)).Subject;
        Field(runtime, "pid").Should().Be($"{Environment.ProcessId}i");
        long.Parse(Field(runtime, "gc_num").TrimEnd('i'), System.Globalization.CultureInfo.InvariantCulture)
            .Should().BeLessThanOrEqualTo(json.GetProperty("gc_num").GetInt64(), "the JSON was captured after");
        string published = lines.Should().ContainSingle(l => l.StartsWith("published,service=orders ", StringComparison.Ordinal)).Subject;
        published.Should().Contain(" queue_depth=7i,ready=true,build=\"1.2 \\\"rc\\\"\" ", "integers end in i, strings are quoted and escaped");
        lines.Should().ContainSingle(l => l.StartsWith($"orders,service=orders,meter={meter.Name},route=/check\\ out value=5 ", StringComparison.Ordinal));
        string histogram = lines.Should().ContainSingle(l => l.StartsWith("latency,", StringComparison.Ordinal)).Subject;
        Field(histogram, "count").Should().Be("2i");
        Field(histogram, "sum").Should().Be("44");
        long time = long.Parse(runtime.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture);
        DateTimeOffset.FromUnixTimeMilliseconds(time / 1_000_000).Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
    }

    [Test]
    public async Task A_mounted_format_runs_each_callback_once_per_request_like_the_built_in_ones()
    {
        int reads = 0;
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/influx", new LineProtocolWriter())
            .Publish("reads", () => (long)Interlocked.Increment(ref reads)));
        using HttpClient client = TestServers.Client(server);

        string first = await client.GetStringAsync("/influx");
        string second = await client.GetStringAsync("/influx");

        first.Should().Contain(" reads=1i ");
        second.Should().Contain(" reads=2i ");
        reads.Should().Be(2);
    }

    /// <summary>The value of <paramref name="name"/> in a line's field set.</summary>
    private static string Field(string line, string name)
    {
        string fields = line.Split(' ')[^2];
        return fields.Split(',').Select(f => f.Split('=', 2)).Single(f => f[0] == name)[1];
    }
}
