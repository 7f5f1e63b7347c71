using System.Diagnostics.Metrics;
using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

public class MeterBridgeTests
{
    private static readonly string[] AllKinds =
        ["counter", "up_down_counter", "gauge", "observable_counter", "observable_up_down_counter", "observable_gauge", "histogram"];

    private static KeyValuePair<string, object?> Tag(string key, object? value) => new(key, value);

    private static Meter NewMeter(string prefix = "Bridge") => new($"{prefix}.{Guid.NewGuid():N}");

    private static Task<StatsServer> StartAsync(Meter meter, Action<StatsServer>? configure = null) =>
        TestServers.StartAsync(s =>
        {
            s.Handle("/api/stats").HandlePrometheus("/metrics").ExportMeters(meter.Name);
            configure?.Invoke(s);
        });

    private static async Task<Dictionary<string, ExpositionSample>> SamplesAsync(HttpClient client, bool openMetrics = false) =>
        ExpositionParser.Samples(await Scrapes.ParseAsync(client, "/metrics", openMetrics));

    private static JsonElement Instrument(JsonElement json, string name) =>
        json.GetProperty("meters").EnumerateArray().Single(i => i.GetProperty("name").GetString() == name);

    [Test]
    public async Task Every_instrument_kind_is_exported_in_both_outputs()
    {
        using Meter meter = NewMeter();
        Counter<long> orders = meter.CreateCounter<long>("orders");
        UpDownCounter<int> inFlight = meter.CreateUpDownCounter<int>("in_flight");
        Gauge<double> temperature = meter.CreateGauge<double>("temperature", "Cel");
        meter.CreateObservableCounter("ticks", () => 42L);
        meter.CreateObservableUpDownCounter("queue", () => 7);
        meter.CreateObservableGauge("ratio", () => 0.25, "1");
        Histogram<double> latency = meter.CreateHistogram<double>("latency", "s");
        await using StatsServer server = await StartAsync(meter);
        using HttpClient client = TestServers.Client(server);
        orders.Add(3);
        inFlight.Add(-2);
        temperature.Record(21.5);
        latency.Record(0.003);
        latency.Record(0.3);
        latency.Record(30);

        Dictionary<string, ExpositionFamily> families = await Scrapes.ParseAsync(client, "/metrics", openMetrics: true);
        Dictionary<string, ExpositionSample> samples = ExpositionParser.Samples(families);
        JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats");

        families["orders"].Type.Should().Be("counter");
        samples["orders_total{}"].Value.Should().Be(3);
        families["in_flight"].Type.Should().Be("gauge");
        samples["in_flight{}"].Value.Should().Be(-2);
        samples["temperature_celsius{}"].Value.Should().Be(21.5);
        families["ticks"].Type.Should().Be("counter");
        samples["ticks_total{}"].Value.Should().Be(42);
        samples["queue{}"].Value.Should().Be(7);
        samples["ratio{}"].Value.Should().Be(0.25);
        families["latency_seconds"].Type.Should().Be("histogram");
        samples["latency_seconds_bucket{le=0.005}"].Value.Should().Be(1, "Prometheus's default buckets for seconds");
        samples["latency_seconds_bucket{le=0.5}"].Value.Should().Be(2);
        samples["latency_seconds_bucket{le=10.0}"].Value.Should().Be(2);
        samples["latency_seconds_bucket{le=+Inf}"].Value.Should().Be(3);
        samples["latency_seconds_count{}"].Value.Should().Be(3);
        samples["latency_seconds_sum{}"].Value.Should().BeApproximately(30.303, 1e-9);

        json.GetProperty("meters").EnumerateArray().Select(i => i.GetProperty("kind").GetString()).Should().BeEquivalentTo(AllKinds);
        Instrument(json, "orders").GetProperty("series")[0].GetProperty("value").GetDouble().Should().Be(3);
        Instrument(json, "orders").GetProperty("meter").GetString().Should().Be(meter.Name);
        JsonElement histogram = Instrument(json, "latency");
        histogram.GetProperty("prometheus_name").GetString().Should().Be("latency_seconds");
        histogram.GetProperty("bounds").GetArrayLength().Should().Be(11);
        JsonElement series = histogram.GetProperty("series")[0];
        series.GetProperty("count").GetInt64().Should().Be(3);
        series.GetProperty("bucket_counts").EnumerateArray().Select(c => c.GetInt64()).Should().Equal(1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1);
    }

    [Test]
    public async Task Histograms_use_the_advised_bucket_bounds()
    {
        using Meter meter = NewMeter();
        Histogram<int> sizes = meter.CreateHistogram<int>("sizes", "By", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [10, 100] });
        await using StatsServer server = await StartAsync(meter);
        using HttpClient client = TestServers.Client(server);
        sizes.Record(5);
        sizes.Record(10);
        sizes.Record(11);
        sizes.Record(1000);

        Dictionary<string, ExpositionSample> text = await SamplesAsync(client);
        Dictionary<string, ExpositionSample> openMetrics = await SamplesAsync(client, openMetrics: true);

        text.Keys.Where(k => k.StartsWith("sizes_bytes_bucket", StringComparison.Ordinal)).Should().BeEquivalentTo(
            "sizes_bytes_bucket{le=10}", "sizes_bytes_bucket{le=100}", "sizes_bytes_bucket{le=+Inf}");
        text["sizes_bytes_bucket{le=10}"].Value.Should().Be(2, "le is inclusive");
        text["sizes_bytes_bucket{le=100}"].Value.Should().Be(3);
        openMetrics["sizes_bytes_bucket{le=10.0}"].Value.Should().Be(2, "OpenMetrics spells le canonically");
        openMetrics["sizes_bytes_count{}"].Value.Should().Be(4);
    }

    [Test]
    public async Task Hostile_tag_values_are_escaped_and_read_back_exactly()
    {
        const string Hostile = "C:\\temp \"quoted\"\nsecond line, ünïcødé ✓ {}=";
        using Meter meter = NewMeter();
        Counter<long> counter = meter.CreateCounter<long>("hits");
        await using StatsServer server = await StartAsync(meter);
        using HttpClient client = TestServers.Client(server);
        counter.Add(1, Tag("path", Hostile), Tag("lone", "a\uD800b"));

        foreach (bool openMetrics in new[] { false, true })
        {
            ExpositionSample hits = (await SamplesAsync(client, openMetrics)).Values.Single(s => s.Name == "hits_total");
            hits.Labels["path"].Should().Be(Hostile);
            hits.Labels["lone"].Should().Be("a\uFFFDb", "a lone surrogate cannot be encoded; it becomes U+FFFD");
        }

        string body = await Scrapes.GetTextAsync(client, "/metrics", openMetrics: false);
        body.Should().Contain("path=\"C:\\\\temp \\\"quoted\\\"\\nsecond line, ünïcødé ✓ {}=\"");
        JsonElement tags = Instrument(await Scrapes.GetJsonAsync(client, "/api/stats"), "hits").GetProperty("series")[0].GetProperty("tags");
        tags.GetProperty("path").GetString().Should().Be(Hostile);
    }

    [TestCase("http.server.request-duration", "http_server_request_duration")]
    [TestCase("odd name with  spaces", "odd_name_with_spaces")]
    [TestCase("9lives", "_9lives")]
    [TestCase("...", "instrument")]
    [TestCase("requests.total", "requests")]
    public async Task Instrument_names_are_sanitised(string instrument, string expected)
    {
        using Meter meter = NewMeter();
        Counter<long> counter = meter.CreateCounter<long>(instrument);
        await using StatsServer server = await StartAsync(meter);
        using HttpClient client = TestServers.Client(server);
        counter.Add(1);

        Dictionary<string, ExpositionFamily> families = await Scrapes.ParseAsync(client, "/metrics", openMetrics: true);

        families.Should().ContainKey(expected);
        families[expected].Samples.Single().Name.Should().Be(expected + "_total");
        families[expected].Help.Should().Contain(instrument, "HELP names the instrument when it has no description");
    }

    [Test]
    public async Task Tag_names_are_sanitised_and_colliding_ones_joined()
    {
        using Meter meter = NewMeter();
        Counter<long> counter = meter.CreateCounter<long>("calls");
        await using StatsServer server = await StartAsync(meter);
        using HttpClient client = TestServers.Client(server);
        counter.Add(1, Tag("http.method", "GET"), Tag("http_method", "get"), Tag("__reserved", 1), Tag("9x", true), Tag("", null));

        ExpositionSample calls = (await SamplesAsync(client)).Values.Single(s => s.Name == "calls_total");

        calls.Labels.Should().BeEquivalentTo(new Dictionary<string, string>
        {
            ["http_method"] = "GET;get",
            ["_reserved"] = "1",
            ["_9x"] = "true",
            ["_"] = string.Empty,
        });
    }

    [Test]
    public async Task Tag_order_does_not_split_a_series_and_each_tag_set_is_one_series()
    {
        using Meter meter = NewMeter();
        Counter<long> calls = meter.CreateCounter<long>("calls");
        await using StatsServer server = await StartAsync(meter);
        using HttpClient client = TestServers.Client(server);
        calls.Add(1, Tag("a", 1), Tag("b", "x"));
        calls.Add(2, Tag("b", "x"), Tag("a", 1));
        calls.Add(4, Tag("a", 2), Tag("b", "x"));
        calls.Add(8);

        Dictionary<string, ExpositionSample> samples = await SamplesAsync(client);

        samples["calls_total{a=1,b=x}"].Value.Should().Be(3);
        samples["calls_total{a=2,b=x}"].Value.Should().Be(4);
        samples["calls_total{}"].Value.Should().Be(8);
    }

    [Test]
    public async Task NaN_and_infinities_use_the_prometheus_tokens_and_json_null()
    {
        using Meter meter = NewMeter();
        Gauge<double> nan = meter.CreateGauge<double>("nan");
        Gauge<double> up = meter.CreateGauge<double>("up");
        Gauge<double> down = meter.CreateGauge<double>("down");
        Counter<double> counter = meter.CreateCounter<double>("counter");
        Histogram<double> histogram = meter.CreateHistogram<double>("histogram");
        await using StatsServer server = await StartAsync(meter);
        using HttpClient client = TestServers.Client(server);
        nan.Record(double.NaN);
        up.Record(double.PositiveInfinity);
        down.Record(double.NegativeInfinity);
        counter.Add(2);
        counter.Add(double.NaN);
        counter.Add(-1);
        histogram.Record(double.NaN);
        histogram.Record(1);

        Dictionary<string, ExpositionSample> text = await SamplesAsync(client);
        Dictionary<string, ExpositionSample> openMetrics = await SamplesAsync(client, openMetrics: true);
        string body = await Scrapes.GetTextAsync(client, "/metrics", openMetrics: false);
        JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats");

        body.Should().Contain("\nnan NaN\n").And.Contain("\nup +Inf\n").And.Contain("\ndown -Inf\n");
        text["counter_total{}"].Value.Should().Be(2, "a counter ignores NaN and negative increments, which would break its rate");
        text["histogram_count{}"].Value.Should().Be(2);
        text["histogram_bucket{le=+Inf}"].Value.Should().Be(2, "NaN lands in the +Inf bucket only");
        text["histogram_bucket{le=5}"].Value.Should().Be(1, "OpenTelemetry's default bounds for a histogram without advice");
        double.IsNaN(text["histogram_sum{}"].Value).Should().BeTrue();
        openMetrics.Should().NotContainKey("histogram_sum{}", "OpenMetrics forbids a NaN _sum").And.NotContainKey("histogram_count{}", "and has _count only beside _sum");
        openMetrics["histogram_bucket{le=+Inf}"].Value.Should().Be(2);
        Instrument(json, "nan").GetProperty("series")[0].GetProperty("value").ValueKind.Should().Be(JsonValueKind.Null);
        Instrument(json, "up").GetProperty("series")[0].GetProperty("value").ValueKind.Should().Be(JsonValueKind.Null);
        Instrument(json, "histogram").GetProperty("series")[0].GetProperty("sum").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Test]
    public async Task Series_beyond_the_cap_are_dropped_and_counted()
    {
        using Meter meter = NewMeter();
        Counter<long> users = meter.CreateCounter<long>("logins");
        await using StatsServer server = await StartAsync(meter, s => s.MaxSeriesPerInstrument = 5);
        using HttpClient client = TestServers.Client(server);
        for (int i = 0; i < 8; i++)
        {
            users.Add(1, Tag("user", i));
        }

        users.Add(1, Tag("user", 0));
        Dictionary<string, ExpositionFamily> families = await Scrapes.ParseAsync(client, "/metrics", openMetrics: true);
        JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats");

        families["logins"].Samples.Should().HaveCount(5);
        ExpositionParser.Samples(families)["logins_total{user=0}"].Value.Should().Be(2, "existing series keep counting");
        families["statshandler_dropped_series"].Type.Should().Be("counter");
        ExpositionParser.Samples(families)["statshandler_dropped_series_total{metric=logins}"].Value.Should().Be(3);
        Instrument(json, "logins").GetProperty("dropped_series").GetInt64().Should().Be(3);
    }

    [Test]
    public void The_series_cap_defaults_to_1000_and_rejects_nonsense()
    {
        using var server = new StatsServer("127.0.0.1:0");

        server.MaxSeriesPerInstrument.Should().Be(1000);
        Action zero = () => server.MaxSeriesPerInstrument = 0;
        zero.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Series cap 0 must be between 1 and 1,000,000*");
    }

    [Test]
    [Category("Concurrency")]
    public async Task A_meter_created_and_disposed_while_scraping_breaks_no_scrape()
    {
        string prefix = $"Churn.{Guid.NewGuid():N}";
        var errors = new List<Exception>();
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats").HandlePrometheus("/metrics").ExportMeters(prefix + ".*")
            .OnError(e =>
            {
                lock (errors)
                {
                    errors.Add(e);
                }
            }));
        using HttpClient client = TestServers.Client(server);
        using var stop = new CancellationTokenSource();
        int cycles = 0;
        var churning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task churn = Task.Run(() =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                using var meter = new Meter($"{prefix}.{i % 7}");
                meter.CreateCounter<long>("c").Add(1, Tag("i", i % 3));
                meter.CreateHistogram<double>("h").Record(i);
                meter.CreateObservableGauge("g", () => i);
                if (Interlocked.Increment(ref cycles) == 10)
                {
                    churning.TrySetResult();
                }
            }
        });

        // Scrape while the churn is under way, not before it has begun.
        await churning.Task.WaitAsync(TestServers.Bound);

        for (int round = 0; round < 20; round++)
        {
            await Task.WhenAll(
                Scrapes.ParseAsync(client, "/metrics", openMetrics: round % 2 == 0),
                Scrapes.GetJsonAsync(client, "/api/stats"));
        }

        await stop.CancelAsync();
        await churn.WaitAsync(TestServers.Bound);

        Volatile.Read(ref cycles).Should().BePositive();
        errors.Should().BeEmpty();
    }

    [Test]
    public async Task Measurements_from_many_threads_are_all_counted()
    {
        using Meter meter = NewMeter();
        Counter<long> counter = meter.CreateCounter<long>("work");
        Histogram<long> histogram = meter.CreateHistogram<long>("sizes");
        await using StatsServer server = await StartAsync(meter);
        using HttpClient client = TestServers.Client(server);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                counter.Add(1, Tag("thread", t % 2));
                histogram.Record(i);
            }
        }))).WaitAsync(TestServers.Bound);
        Dictionary<string, ExpositionSample> samples = await SamplesAsync(client);

        (samples["work_total{thread=0}"].Value + samples["work_total{thread=1}"].Value).Should().Be(80_000);
        samples["sizes_count{}"].Value.Should().Be(80_000);
    }

    [Test]
    public async Task Only_the_named_meters_are_exported_exactly_or_by_prefix()
    {
        string root = $"Prefix{Guid.NewGuid():N}";
        using var exact = new Meter(root);
        using var child = new Meter(root + ".Orders");
        using var other = new Meter(root + "Other");
        using var unrelated = new Meter("Unrelated." + root);
        Counter<long>[] counters =
        [
            exact.CreateCounter<long>("exact"), child.CreateCounter<long>("child"),
            other.CreateCounter<long>("other"), unrelated.CreateCounter<long>("unrelated"),
        ];
        Array.ForEach(counters, c => c.Add(1));
        await using StatsServer server = await TestServers.StartAsync(s => s.HandlePrometheus("/metrics").ExportMeters(root, root + ".*"));
        using HttpClient client = TestServers.Client(server);
        Array.ForEach(counters, c => c.Add(10));

        Dictionary<string, ExpositionFamily> families = await Scrapes.ParseAsync(client, "/metrics", openMetrics: false);

        families.Keys.Should().Contain(["exact_total", "child_total"]).And.NotContain(["other_total", "unrelated_total"]);
        families["child_total"].Samples.Single().Value.Should().Be(10, "an instrument created before ExportMeters counts from the call on");
    }

    [TestCase(new string[0], "*at least one meter name*")]
    [TestCase(new[] { "" }, "*Invalid meter name ''*")]
    [TestCase(new[] { "My*App" }, "*Invalid meter name 'My*App'*only at the end*")]
    public void Bad_meter_names_throw_naming_the_value_and_the_fix(string[] names, string message)
    {
        using var server = new StatsServer("127.0.0.1:0");

        Action export = () => server.ExportMeters(names);

        export.Should().Throw<ArgumentException>().WithMessage(message);
    }

    [Test]
    public async Task Instruments_whose_names_collide_are_numbered()
    {
        using Meter meter = NewMeter();
        Counter<long> first = meter.CreateCounter<long>("a.b");
        Counter<long> second = meter.CreateCounter<long>("a-b");
        Gauge<long> builtIn = meter.CreateGauge<long>("process.cpu.seconds.total");
        await using StatsServer server = await StartAsync(meter);
        using HttpClient client = TestServers.Client(server);
        first.Add(1);
        second.Add(2);
        builtIn.Record(3);

        Dictionary<string, ExpositionSample> samples = await SamplesAsync(client);

        samples["a_b_total{}"].Value.Should().Be(1);
        samples["a_b_2_total{}"].Value.Should().Be(2);
        samples["process_cpu_seconds_2{}"].Value.Should().Be(3, "a built-in family's name is never reused, and a gauge drops _total");
    }

    [Test]
    public async Task An_observable_callback_that_throws_is_reported_and_the_scrape_succeeds()
    {
        using Meter meter = NewMeter();
        meter.CreateObservableGauge<int>("broken", (Func<int>)(() => throw new InvalidOperationException("sensor offline")));
        meter.CreateObservableGauge("fine", () => 5);
        var errors = new List<Exception>();
        await using StatsServer server = await StartAsync(meter, s => s.OnError(e =>
        {
            lock (errors)
            {
                errors.Add(e);
            }
        }));
        using HttpClient client = TestServers.Client(server);

        Dictionary<string, ExpositionSample> samples = await SamplesAsync(client);

        samples["fine{}"].Value.Should().Be(5);
        samples.Keys.Should().NotContain(k => k.StartsWith("broken", StringComparison.Ordinal));
        lock (errors)
        {
            errors.Should().ContainSingle().Which.Message.Should().Contain("sensor offline");
        }
    }

    [Test]
    public async Task Export_meters_may_be_called_again_to_add_meters()
    {
        using Meter first = NewMeter();
        using Meter second = NewMeter();
        Counter<long> a = first.CreateCounter<long>("first");
        Counter<long> b = second.CreateCounter<long>("second");
        await using StatsServer server = await StartAsync(first, s => s.ExportMeters(second.Name));
        using HttpClient client = TestServers.Client(server);
        a.Add(1);
        b.Add(2);

        Dictionary<string, ExpositionSample> samples = await SamplesAsync(client);

        samples["first_total{}"].Value.Should().Be(1, "the first meter is exported once, not twice");
        samples["second_total{}"].Value.Should().Be(2);
    }

    [Test]
    public async Task Odd_tags_keys_and_values_never_break_a_response()
    {
        using Meter meter = NewMeter();
        Counter<long> counter = meter.CreateCounter<long>("odd\uD800.name", "{x}", "desc \uDC00 \"quoted\"\nline");
        await using StatsServer server = await StartAsync(meter);
        using HttpClient client = TestServers.Client(server);
        counter.Add(1, Tag(null!, "null key"), Tag("dup", 1), Tag("dup", 2), Tag("obj", new Uri("http://x/")), Tag("when", new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc)));
        counter.Add(1, Tags(40));

        Dictionary<string, ExpositionFamily> text = await Scrapes.ParseAsync(client, "/metrics", openMetrics: false);
        await Scrapes.ParseAsync(client, "/metrics", openMetrics: true);
        JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats");

        ExpositionSample first = text["odd_name_total"].Samples[0];
        first.Labels.Should().Contain(new KeyValuePair<string, string>("_", "null key"))
            .And.Contain(new KeyValuePair<string, string>("dup", "1"))
            .And.Contain(new KeyValuePair<string, string>("obj", "http://x/"))
            .And.Contain(new KeyValuePair<string, string>("when", "01/02/2026 03:04:05"));
        text["odd_name_total"].Samples[1].Labels.Should().HaveCount(40, "more tags than fit on the stack still make one series");
        text["odd_name_total"].Help.Should().Be("desc \uFFFD \"quoted\"\nline");
        Instrument(json, "odd\uFFFD.name").GetProperty("description").GetString().Should().Be("desc \uFFFD \"quoted\"\nline");
    }

    private static KeyValuePair<string, object?>[] Tags(int count) =>
        Enumerable.Range(0, count).Select(i => Tag($"tag{i:D2}", new string('v', 30))).ToArray();

    [Test]
    public async Task Values_in_non_base_units_are_converted_to_seconds_and_bytes()
    {
        using Meter meter = NewMeter();
        Counter<double> busy = meter.CreateCounter<double>("busy", "ms");
        Gauge<long> cache = meter.CreateGauge<long>("cache", "KiBy");
        Histogram<double> latency = meter.CreateHistogram<double>("latency", "ms");
        await using StatsServer server = await StartAsync(meter);
        using HttpClient client = TestServers.Client(server);
        busy.Add(1500);
        cache.Record(2);
        latency.Record(7);

        Dictionary<string, ExpositionSample> samples = await SamplesAsync(client);
        JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats");

        samples["busy_seconds_total{}"].Value.Should().Be(1.5);
        samples["cache_bytes{}"].Value.Should().Be(2048);
        samples["latency_seconds_bucket{le=0.005}"].Value.Should().Be(0, "the default bounds, 0 to 10000 ms, become 0 to 10 s");
        samples["latency_seconds_bucket{le=0.01}"].Value.Should().Be(1);
        samples["latency_seconds_sum{}"].Value.Should().BeApproximately(0.007, 1e-12);
        Instrument(json, "busy").GetProperty("series")[0].GetProperty("value").GetDouble().Should().Be(1500, "the JSON keeps the instrument's unit");
        Instrument(json, "latency").GetProperty("bounds")[1].GetDouble().Should().Be(5);
    }

    [Test]
    public async Task Disposing_the_server_unsubscribes_from_the_meters()
    {
        using Meter meter = NewMeter();
        Counter<long> counter = meter.CreateCounter<long>("c");
        StatsServer server = await StartAsync(meter);
        counter.Enabled.Should().BeTrue();

        await server.DisposeAsync();

        counter.Enabled.Should().BeFalse("the server's MeterListener is disposed with it");
        counter.Add(1);
    }
}
