using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

public class StatsRegistryTests
{
    [Test]
    public async Task Handlers_built_by_hand_with_the_servers_registry_show_its_values_and_meters_with_their_own_options()
    {
        using var meter = new Meter($"Registry.{Guid.NewGuid():N}");
        meter.CreateCounter<long>("orders").Add(5);
        StatsServer? built = null;
        await using StatsServer server = await TestServers.StartAsync(s =>
        {
            built = s;
            s.Publish("queue_depth", () => 7L).ExportMeters(meter.Name);
            s.Handle("/api/stats", new RuntimeStatsHandler(new RuntimeStatsHandlerOptions { Indented = true }, s.Registry));
            s.Handle("/metrics", new PrometheusHandler(s.Registry));
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
        built!.Registry.Should().BeSameAs(server.Registry);
    }

    [Test]
    public async Task A_registry_of_its_own_serves_any_handler_and_reports_callback_errors_to_its_callback()
    {
        var errors = new List<Exception>();
        using var registry = new StatsRegistry()
            .Publish("ok_value", () => 1.5)
            .Publish("broken", new Func<double>(() => throw new InvalidOperationException("boom")))
            .OnError(e =>
            {
                lock (errors)
                {
                    errors.Add(e);
                }
            });
        using var prometheus = new PrometheusHandler(registry);
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
        using var late = new RuntimeStatsHandler(null, server.Registry);
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
    public void A_disposed_registry_refuses_new_values_and_handlers()
    {
        var registry = new StatsRegistry();
        registry.Dispose();
        registry.Dispose();

        Action publish = () => registry.Publish("x", () => 1L);
        Action handler = () => new PrometheusHandler(registry).Dispose();

        publish.Should().Throw<ObjectDisposedException>();
        handler.Should().Throw<ObjectDisposedException>();
    }

    [Test]
    public void Bad_registry_input_throws_naming_the_value_and_the_fix()
    {
        using var registry = new StatsRegistry();

        Action cap = () => registry.MaxSeriesPerInstrument = 0;
        Action name = () => registry.Publish("dotnet_x", () => 1L);
        Action meters = () => registry.ExportMeters("My*App");

        cap.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Series cap 0 must be between 1 and 1,000,000*");
        name.Should().Throw<ArgumentException>().WithMessage("*'dotnet_x'*app_x*");
        meters.Should().Throw<ArgumentException>().WithMessage("*'My*App'*only at the end*");
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
