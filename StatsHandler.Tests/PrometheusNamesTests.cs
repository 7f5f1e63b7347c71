using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

public class PrometheusNamesTests
{
    [Test]
    public void The_naming_policy_lists_exactly_the_built_in_families_the_writers_have()
    {
        PrometheusFamilies.Families.Should().BeSubsetOf(PrometheusNames.BuiltInFamilies);
        PrometheusNames.BuiltInFamilies.Except(PrometheusFamilies.Families).Select(f => f.Name).Should().BeEquivalentTo(
            [PrometheusNames.GcPauseSeconds, PrometheusNames.GcCollectionsByReason, PrometheusNames.DroppedSeries],
            "the GC event families and the dropped-series counter are written by writers of their own");
    }

    [Test]
    public async Task Every_family_a_scrape_writes_under_a_reserved_prefix_is_a_built_in_one_of_its_type()
    {
        using var meter = new System.Diagnostics.Metrics.Meter($"Names.{Guid.NewGuid():N}");
        System.Diagnostics.Metrics.Counter<long> clashing = meter.CreateCounter<long>("dotnet.exceptions");
        await using StatsServer server = await TestServers.StartAsync(s => s.HandlePrometheus("/metrics").EnableGcEvents().ExportMeters(meter.Name));
        clashing.Add(1);
        using HttpClient client = TestServers.Client(server);
        GC.Collect();

        Dictionary<string, ExpositionFamily> families = await Scrapes.ParseAsync(client, "/metrics", openMetrics: true);

        // The app's instrument may use a reserved prefix (only published values may not); every other such family is built in.
        families.Values.Where(f => PrometheusNames.ReservedPrefixOf(f.Name) is not null && f.Name != "dotnet_exceptions_2")
            .Select(f => (f.Name, f.Type!)).Should().BeSubsetOf(PrometheusNames.BuiltInFamilies);
        families.Should().ContainKey("dotnet_exceptions_2", "an instrument keeps off a built-in name: the policy numbers it");
    }

    [TestCase("http.server.request.duration", "s", false, "http_server_request_duration_seconds")]
    [TestCase("request-duration-seconds", "s", false, "request_duration_seconds")]
    [TestCase("queue size", "{item}", true, "queue_size")]
    [TestCase("payload", "By", false, "payload_bytes")]
    [TestCase("cpu.utilization", "1", true, "cpu_utilization_ratio")]
    [TestCase("hits", "1", false, "hits")]
    [TestCase("throughput", "By/s", true, "throughput_bytes_per_second")]
    [TestCase("speed", "m/s", true, "speed_meters_per_second")]
    [TestCase("latency", "ms", false, "latency_seconds")]
    [TestCase("uptime", "h", true, "uptime_seconds")]
    [TestCase("cache", "MiBy", true, "cache_bytes")]
    [TestCase("rate", "KiBy/s", true, "rate_bytes_per_second")]
    [TestCase("requests_total", null, false, "requests")]
    [TestCase("ünïcødé", null, true, "n_c_d")]
    [TestCase("9", null, true, "_9")]
    [TestCase("", null, true, "instrument")]
    public void Instrument_names_and_units_become_prometheus_names(string name, string? unit, bool isGauge, string expected)
    {
        PrometheusNames.MetricName(name, unit, isGauge).Should().Be(expected);
    }

    [TestCase(null, 1.0)]
    [TestCase("{request}", 1.0)]
    [TestCase("s", 1.0)]
    [TestCase("ms", 0.001)]
    [TestCase("ns", 1e-9)]
    [TestCase("min", 60.0)]
    [TestCase("KiBy", 1024.0)]
    [TestCase("KiBy/s", 1024.0)]
    [TestCase("bit", 0.125)]
    [TestCase("Cel", 1.0)]
    public void Units_scale_to_seconds_and_bytes(string? unit, double scale)
    {
        PrometheusNames.UnitScale(unit).Should().Be(scale);
    }

    [TestCase("http.method", "http_method")]
    [TestCase("__name__", "_name__")]
    [TestCase("1st", "_1st")]
    [TestCase("", "_")]
    [TestCase("ok_Name9", "ok_Name9")]
    public void Tag_keys_become_label_names(string key, string expected)
    {
        PrometheusNames.LabelName(key).Should().Be(expected);
    }

    [TestCase("queue_depth", true)]
    [TestCase("_x", true)]
    [TestCase("A9", true)]
    [TestCase("9a", false)]
    [TestCase("a-b", false)]
    [TestCase("a:b", false)]
    [TestCase("", false)]
    public void Valid_names_are_letters_digits_and_underscores_not_starting_with_a_digit(string name, bool valid)
    {
        PrometheusNames.IsValidName(name).Should().Be(valid);
    }
}
