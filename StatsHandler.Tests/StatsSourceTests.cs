using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

public class StatsSourceTests
{
    [Test]
    public async Task Handlers_built_by_hand_with_the_servers_source_show_its_values_and_meters_with_their_own_options()
    {
        using var meter = new Meter($"Source.{Guid.NewGuid():N}");
        meter.CreateCounter<long>("orders").Add(5);
        StatsServer? built = null;
        await using StatsServer server = await TestServers.StartAsync(s =>
        {
            built = s;
            s.Publish("queue_depth", () => 7L).ExportMeters(meter.Name);
            s.Handle("/api/stats", new RuntimeStatsHandler(s.Source, new RuntimeStatsHandlerOptions { Indented = true }));
            s.Handle("/metrics", new PrometheusHandler(s.Source));
        });
        meter.CreateCounter<long>("orders").Add(5);
        using HttpClient client = TestServers.Client(server);

        string text = await client.GetStringAsync("/api/stats");
        Dictionary<string, ExpositionSample> samples = ExpositionParser.Samples(await Scrapes.ParseAsync(client, "/metrics", openMetrics: false));
        using JsonDocument json = JsonDocument.Parse(text);

        text.Should().Contain("\n  \"time\"", "the handler's own option (indented) applies");
        json.RootElement.GetProperty("published").GetProperty("queue_depth").GetInt64().Should().Be(7);
        json.RootElement.GetProperty("meters").EnumerateArray().Should().ContainSingle(m => m.GetProperty("name").GetString() == "orders");
        samples["queue_depth{}"].Value.Should().Be(7);
        samples["orders_total{}"].Value.Should().Be(5);
        built!.Source.Should().BeSameAs(server.Source);
    }

    [Test]
    public async Task A_source_of_its_own_serves_any_handler_and_reports_callback_errors_to_its_callback()
    {
        var errors = new List<Exception>();
        using var source = new StatsSource()
            .Publish("ok_value", () => 1.5)
            .Publish("broken", new Func<double>(() => throw new InvalidOperationException("boom")))
            .OnError(e =>
            {
                lock (errors)
                {
                    errors.Add(e);
                }
            });
        using var prometheus = new PrometheusHandler(source);
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/metrics", prometheus));
        using HttpClient client = TestServers.Client(server);

        Dictionary<string, ExpositionSample> samples = ExpositionParser.Samples(await Scrapes.ParseAsync(client, "/metrics", openMetrics: true));

        samples["ok_value{}"].Value.Should().Be(1.5);
        samples.Should().NotContainKey("broken{}");
        errors.Should().ContainSingle().Which.Message.Should().Contain("'broken'").And.Contain("boom");
    }

    [Test]
    public async Task Every_handler_of_a_server_reads_one_probe_so_exception_counts_agree()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.HandlePrometheus("/metrics").Handle("/api/stats"));
        using HttpClient client = TestServers.Client(server);
        for (int i = 0; i < 5; i++)
        {
            try
            {
                throw new InvalidOperationException("counted");
            }
            catch (InvalidOperationException)
            {
            }
        }

        // A handler created after the exceptions still counts them: it reads the probe the server's handlers share.
        using var late = new RuntimeStatsHandler(server.Source);
        await using StatsServer other = await TestServers.StartAsync(s => s.Handle("/late", late));
        using HttpClient otherClient = TestServers.Client(other);

        long json = (await Scrapes.GetJsonAsync(client, "/api/stats")).GetProperty("exception_num").GetInt64();
        double prometheus = ExpositionParser.Samples(await Scrapes.ParseAsync(client, "/metrics", openMetrics: false))["dotnet_exceptions_total{}"].Value;
        long lateCount = (await Scrapes.GetJsonAsync(otherClient, "/late")).GetProperty("exception_num").GetInt64();

        json.Should().BeGreaterThanOrEqualTo(5);
        prometheus.Should().BeGreaterThanOrEqualTo(json, "read later from the same count");
        lateCount.Should().BeGreaterThanOrEqualTo(json, "the late handler counts from the shared probe's creation, not its own");
    }

    [Test]
    public void A_disposed_source_refuses_new_values_and_handlers()
    {
        var source = new StatsSource();
        source.Dispose();
        source.Dispose();

        Action publish = () => source.Publish("x", () => 1L);
        Action handler = () => new PrometheusHandler(source).Dispose();

        publish.Should().Throw<ObjectDisposedException>();
        handler.Should().Throw<ObjectDisposedException>();
    }

    [Test]
    public void Bad_source_input_throws_naming_the_value_and_the_fix()
    {
        using var source = new StatsSource();

        Action cap = () => source.MaxSeriesPerInstrument = 0;
        Action name = () => source.Publish("dotnet_x", () => 1L);
        Action meters = () => source.ExportMeters("My*App");

        cap.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Series cap 0 must be between 1 and 1,000,000*");
        name.Should().Throw<ArgumentException>().WithMessage("*'dotnet_x'*app_x*");
        meters.Should().Throw<ArgumentException>().WithMessage("*'My*App'*only at the end*");
    }

    [Test]
    public async Task Rule_constant_labels_are_refused_through_either_door_once_the_server_starts()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.HandlePrometheus("/metrics").AddConstantLabel("service", "orders").Source.AddConstantLabel("region", "eu"));

        server.Invoking(s => s.AddConstantLabel("late", "x")).Should().Throw<InvalidOperationException>().WithMessage("*'late'*already started*");
        server.Source.Invoking(s => s.AddConstantLabel("late", "x")).Should().Throw<InvalidOperationException>().WithMessage("*'late'*already started*");
        using HttpClient client = TestServers.Client(server);
        string body = await client.GetStringAsync("/metrics");
        body.Should().Contain("service=\"orders\"").And.Contain("region=\"eu\"").And.NotContain("late=");
    }

    [Test]
    public async Task Rule_constant_labels_are_refused_on_a_source_of_its_own_once_a_handler_has_captured_from_it()
    {
        using var source = new StatsSource().AddConstantLabel("service", "orders");
        using var prometheus = new PrometheusHandler(source);
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/metrics", prometheus));
        using HttpClient client = TestServers.Client(server);

        source.Invoking(s => s.AddConstantLabel("before", "scrape")).Should().NotThrow("a handler was built, but nothing captured yet");
        (await client.GetStringAsync("/metrics")).Should().Contain("before=\"scrape\"");
        source.Invoking(s => s.AddConstantLabel("after", "scrape")).Should().Throw<InvalidOperationException>().WithMessage("*already started*");
    }

    [Test]
    public async Task Rule_values_meters_and_gc_events_may_be_added_through_either_door_after_the_start_and_show_from_the_next_request()
    {
        using var meter = new Meter($"Source.{Guid.NewGuid():N}");
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        using HttpClient client = TestServers.Client(server);

        server.Publish("through_server", () => 1L).ExportMeters(meter.Name);
        server.Source.Publish("through_source", () => 2L).EnableGcEvents();
        meter.CreateCounter<long>("late_orders").Add(3);
        JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats");

        json.GetProperty("published").GetProperty("through_server").GetInt64().Should().Be(1);
        json.GetProperty("published").GetProperty("through_source").GetInt64().Should().Be(2);
        json.GetProperty("meters")[0].GetProperty("series")[0].GetProperty("value").GetDouble().Should().Be(3);
        json.TryGetProperty("gc_pause_reason", out _).Should().BeTrue("GC events are on from this request");
    }

    [Test]
    public async Task Rule_a_disposed_server_refuses_changes_through_either_door()
    {
        StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        await server.DisposeAsync();

        server.Invoking(s => s.Publish("x", () => 1L)).Should().Throw<ObjectDisposedException>();
        server.Source.Invoking(s => s.Publish("x", () => 1L)).Should().Throw<ObjectDisposedException>();
        server.Invoking(s => s.ExportMeters("MyApp")).Should().Throw<ObjectDisposedException>();
        server.Source.Invoking(s => s.EnableGcEvents()).Should().Throw<ObjectDisposedException>();
        server.Invoking(s => s.EnableGcEvents()).Should().Throw<ObjectDisposedException>();
    }

    [Test]
    public async Task Rule_each_request_runs_every_callback_once_and_reports_each_error_once()
    {
        int reads = 0;
        int observed = 0;
        var errors = new List<Exception>();
        using var meter = new Meter($"Source.{Guid.NewGuid():N}");
        meter.CreateObservableGauge("observed", () => Interlocked.Increment(ref observed));
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats").HandlePrometheus("/metrics").ExportMeters(meter.Name)
            .Publish("counted", () => (long)Interlocked.Increment(ref reads))
            .Publish("broken", new Func<long>(() => throw new InvalidOperationException("boom")))
            .OnError(e =>
            {
                lock (errors)
                {
                    errors.Add(e);
                }
            }));
        using HttpClient client = TestServers.Client(server);

        await client.GetStringAsync("/api/stats");
        await client.GetStringAsync("/metrics");

        reads.Should().Be(2, "one capture per request reads each published value once");
        observed.Should().Be(2, "and runs each observable instrument's callback once");
        lock (errors)
        {
            errors.Should().HaveCount(2).And.OnlyContain(e => e.Message.Contains("'broken'"), "one report per request, whatever the format");
        }
    }

    [Test]
    public async Task A_source_built_by_hand_records_gc_events_for_its_handlers()
    {
        using var source = new StatsSource().EnableGcEvents();
        using var json = new RuntimeStatsHandler(source);
        using var prometheus = new PrometheusHandler(source);
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/stats", json).Handle("/metrics", prometheus));
        using HttpClient client = TestServers.Client(server);

        // The listener delivers events on its own thread: collect until one shows, within a bound.
        JsonElement document = await Poll.UntilAsync(
            async _ =>
            {
                GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                return await Scrapes.GetJsonAsync(client, "/stats");
            },
            d => d.GetProperty("gc_pause_reason").GetArrayLength() > 0,
            TimeSpan.FromSeconds(20),
            "a collection to show in the GC events");
        string text = await client.GetStringAsync("/metrics");

        document.GetProperty("gc_pause_reason").EnumerateArray().Select(r => r.GetString()).Should().Contain("induced");
        text.Should().Contain("dotnet_gc_collections_by_reason_total{gc_reason=\"induced\"}");
    }

    [Test]
    public async Task A_collector_on_the_servers_source_counts_the_exceptions_its_handlers_count()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        using var collector = new RuntimeStatsCollector(server.Source);
        using HttpClient client = TestServers.Client(server);
        for (int i = 0; i < 3; i++)
        {
            try
            {
                throw new InvalidOperationException("counted");
            }
            catch (InvalidOperationException)
            {
            }
        }

        long before = collector.Capture().ExceptionCount;
        long served = (await Scrapes.GetJsonAsync(client, "/api/stats")).GetProperty("exception_num").GetInt64();
        long after = collector.Capture().ExceptionCount;

        before.Should().BeGreaterThanOrEqualTo(3);
        served.Should().BeInRange(before, after, "one probe, one count, read in between");
    }

    [Test]
    public void Os_figures_are_never_older_than_the_documented_sharing_window()
    {
        using var collector = new RuntimeStatsCollector();
        RuntimeStats before = collector.Capture();

        // Burn CPU on this thread for longer than the window: the next snapshot must read the OS again and see it.
        var clock = Stopwatch.StartNew();
        double sink = 0;
        while (clock.Elapsed < RuntimeProbe.OsFiguresMaxAge * 2)
        {
            sink += Math.Sqrt(clock.ElapsedTicks);
        }

        RuntimeStats after = collector.Capture();

        sink.Should().BePositive();
        RuntimeProbe.OsFiguresMaxAge.Should().BeLessThanOrEqualTo(TimeSpan.FromMilliseconds(20), "the README promises figures at most 20 ms old");
        (after.CpuUserSeconds + after.CpuSystemSeconds).Should().BeGreaterThan(before.CpuUserSeconds + before.CpuSystemSeconds);
    }
}
