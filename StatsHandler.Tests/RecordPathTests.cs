using System.Diagnostics;
using System.Diagnostics.Metrics;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>The lock-free record path: exact under contention, one series per tag set, and never held up by a scrape.</summary>
public class RecordPathTests
{
    private static KeyValuePair<string, object?> Tag(string key, object? value) => new(key, value);

    private static Meter NewMeter() => new($"RecordPath.{Guid.NewGuid():N}");

    private static Task<StatsServer> StartAsync(Meter meter, Action<StatsServer>? configure = null) =>
        TestServers.StartAsync(s =>
        {
            s.Handle("/api/stats").HandlePrometheus("/metrics").ExportMeters(meter.Name);
            configure?.Invoke(s);
        });

    private static async Task<Dictionary<string, ExpositionSample>> SamplesAsync(HttpClient client) =>
        ExpositionParser.Samples(await Scrapes.ParseAsync(client, "/metrics", openMetrics: false));

    [Test]
    public async Task Untagged_counters_and_histograms_hammered_by_many_threads_lose_nothing()
    {
        using Meter meter = NewMeter();
        Counter<long> hits = meter.CreateCounter<long>("hits");
        Counter<double> weight = meter.CreateCounter<double>("weight");
        UpDownCounter<long> level = meter.CreateUpDownCounter<long>("level");
        Histogram<double> sizes = meter.CreateHistogram<double>("sizes");
        await using StatsServer server = await StartAsync(meter);
        using HttpClient client = TestServers.Client(server);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                hits.Add(1);
                weight.Add(0.5);
                level.Add(i % 2 == 0 ? 3 : -1);
                sizes.Record(i % 20);
            }
        }))).WaitAsync(TestServers.Bound);
        Dictionary<string, ExpositionSample> samples = await SamplesAsync(client);

        samples["hits_total{}"].Value.Should().Be(160_000);
        samples["weight_total{}"].Value.Should().Be(80_000, "halves add up exactly in a double");
        samples["level{}"].Value.Should().Be(160_000);
        samples["sizes_count{}"].Value.Should().Be(160_000);
        samples["sizes_bucket{le=+Inf}"].Value.Should().Be(160_000);
        samples["sizes_bucket{le=5}"].Value.Should().Be(8 * 1000 * 6, "values 0 to 5 of each run of 20");
        samples["sizes_sum{}"].Value.Should().Be(8 * 1000 * 190);
    }

    [Test]
    public async Task Threads_racing_to_create_series_make_each_once_and_respect_the_cap()
    {
        using Meter meter = NewMeter();
        Counter<long> logins = meter.CreateCounter<long>("logins");
        await using StatsServer server = await StartAsync(meter, s => s.MaxSeriesPerInstrument = 30);
        using HttpClient client = TestServers.Client(server);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 50; i++)
            {
                logins.Add(1, Tag("user", (i * 7 + t) % 50), Tag("t", "x"));
            }
        }))).WaitAsync(TestServers.Bound);
        Dictionary<string, ExpositionFamily> families = await Scrapes.ParseAsync(client, "/metrics", openMetrics: false);
        Dictionary<string, ExpositionSample> samples = ExpositionParser.Samples(families);

        families["logins_total"].Samples.Should().HaveCount(30);
        families["logins_total"].Samples.Select(s => s.Labels["user"]).Should().OnlyHaveUniqueItems();
        double counted = families["logins_total"].Samples.Sum(s => s.Value);
        double dropped = samples["statshandler_dropped_series_total{metric=logins}"].Value;
        (counted + dropped).Should().Be(200, "every measurement is either counted or counted as dropped");
    }

    [Test]
    public async Task A_value_and_its_text_are_one_series_and_a_repeated_key_keeps_its_first_value()
    {
        using Meter meter = NewMeter();
        Counter<long> calls = meter.CreateCounter<long>("calls");
        await using StatsServer server = await StartAsync(meter);
        using HttpClient client = TestServers.Client(server);
        calls.Add(1, Tag("status", 200));
        calls.Add(2, Tag("status", "200"));
        calls.Add(4, Tag("status", 200L), Tag("status", 500));
        calls.Add(8, Tag("ok", true));
        calls.Add(16, Tag("ok", "true"));
        calls.Add(32, Tag("none", null), Tag(null!, "empty key"));

        Dictionary<string, ExpositionSample> samples = await SamplesAsync(client);

        samples["calls_total{status=200}"].Value.Should().Be(7);
        samples["calls_total{ok=true}"].Value.Should().Be(24);
        samples.Keys.Where(k => k.StartsWith("calls_total", StringComparison.Ordinal)).Should().HaveCount(3);
    }

    [Test]
    public async Task Long_values_that_differ_only_in_the_middle_are_separate_series()
    {
        using Meter meter = NewMeter();
        Counter<long> calls = meter.CreateCounter<long>("calls");
        await using StatsServer server = await StartAsync(meter);
        using HttpClient client = TestServers.Client(server);
        string left = "/api/customers/" + new string('a', 20) + "/orders/all";
        string right = "/api/customers/" + new string('a', 9) + "b" + new string('a', 10) + "/orders/all";
        for (int i = 0; i < 3; i++)
        {
            calls.Add(1, Tag("route", left), Tag("method", "GET"));
            calls.Add(10, Tag("method", "GET"), Tag("route", right));
        }

        Dictionary<string, ExpositionSample> samples = await SamplesAsync(client);

        samples[$"calls_total{{method=GET,route={left}}}"].Value.Should().Be(3);
        samples[$"calls_total{{method=GET,route={right}}}"].Value.Should().Be(30);
    }

    [Test]
    public async Task Records_proceed_while_metrics_is_scraped_in_a_loop_with_1000_series()
    {
        const int Series = 1000;
        const int Scrapes = 25;
        using Meter meter = NewMeter();
        Counter<long> requests = meter.CreateCounter<long>("requests");
        await using StatsServer server = await StartAsync(meter);
        using HttpClient client = TestServers.Client(server);
        var routes = new string[Series];
        for (int i = 0; i < Series; i++)
        {
            routes[i] = "/route/" + i;
            requests.Add(1, Tag("method", "GET"), Tag("route", routes[i]), Tag("status", 200));
        }

        var latencies = new long[2_000_000];
        int recorded = 0;
        int scrapesDone = 0;
        long recordedDuringScrapes = 0;
        using var stop = new CancellationTokenSource();
        var recorder = new Thread(() =>
        {
            while (!stop.IsCancellationRequested && recorded < latencies.Length)
            {
                int before = Volatile.Read(ref scrapesDone);
                long start = Stopwatch.GetTimestamp();
                requests.Add(1, Tag("method", "GET"), Tag("route", routes[recorded % Series]), Tag("status", 200));
                latencies[recorded++] = Stopwatch.GetTimestamp() - start;
                if (before < Scrapes && Volatile.Read(ref scrapesDone) == before)
                {
                    recordedDuringScrapes++;
                }
            }
        }) { IsBackground = true, Name = "recorder" };
        recorder.Start();

        Dictionary<string, ExpositionFamily>? last = null;
        for (int i = 0; i < Scrapes; i++)
        {
            last = await Support.Scrapes.ParseAsync(client, "/metrics", openMetrics: false);
            Interlocked.Increment(ref scrapesDone);
        }

        await stop.CancelAsync();
        recorder.Join(TestServers.Bound).Should().BeTrue();
        long[] sorted = latencies[..recorded];
        Array.Sort(sorted);
        double Ns(long ticks) => ticks * 1e9 / Stopwatch.Frequency;
        TestContext.Out.WriteLine(
            $"Record latency while scraping /metrics ({Series} series, {Scrapes} scrapes, {recorded:N0} records): " +
            $"p50 {Ns(sorted[recorded / 2]):F0} ns, p99 {Ns(sorted[(int)(recorded * 0.99)]):F0} ns, " +
            $"p99.9 {Ns(sorted[(int)(recorded * 0.999)]):F0} ns, max {Ns(sorted[^1]) / 1000:F0} us");
        Dictionary<string, ExpositionSample> samples = ExpositionParser.Samples(
            await Support.Scrapes.ParseAsync(client, "/metrics", openMetrics: false));

        recordedDuringScrapes.Should().BePositive("records go on while scrapes run");
        last!["requests_total"].Samples.Should().HaveCount(Series);
        samples.Keys.Count(k => k.StartsWith("requests_total{", StringComparison.Ordinal)).Should().Be(Series);
        samples.Where(p => p.Key.StartsWith("requests_total{", StringComparison.Ordinal)).Sum(p => p.Value.Value)
            .Should().Be(Series + recorded, "no record is lost to a concurrent scrape");
    }
}
