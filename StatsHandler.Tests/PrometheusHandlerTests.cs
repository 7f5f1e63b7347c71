using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

public class PrometheusHandlerTests
{
    /// <summary>The family each numeric JSON key is exported as (OpenMetrics names, without <c>_total</c>).</summary>
    private static readonly Dictionary<string, string> FamilyOfKey = new()
    {
        ["cpu_num"] = "dotnet_process_cpus",
        ["pid"] = "dotnet_runtime_info",
        ["process_start_time"] = "process_start_time_seconds",
        ["uptime_seconds"] = "process_start_time_seconds",
        ["thread_num"] = "process_num_threads",
        ["threadpool_thread_num"] = "dotnet_thread_pool_threads",
        ["threadpool_queue_length"] = "dotnet_thread_pool_queue_length",
        ["threadpool_completed_items"] = "dotnet_thread_pool_work_item_count",
        ["lock_contention_num"] = "dotnet_monitor_lock_contentions",
        ["timer_num"] = "dotnet_timers_active",
        ["cpu_user_seconds"] = "dotnet_process_cpu_time_seconds",
        ["cpu_system_seconds"] = "dotnet_process_cpu_time_seconds",
        ["memory_alloc"] = "dotnet_total_memory_bytes",
        ["memory_total_alloc"] = "dotnet_gc_heap_total_allocated_bytes",
        ["memory_sys"] = "process_resident_memory_bytes",
        ["memory_committed"] = "dotnet_gc_last_collection_memory_committed_size_bytes",
        ["memory_limit"] = "dotnet_gc_memory_total_available_bytes",
        ["memory_load"] = "dotnet_gc_last_collection_memory_load_bytes",
        ["heap_alloc"] = "dotnet_gc_heap_size_bytes",
        ["heap_fragmented"] = "dotnet_gc_last_collection_heap_fragmentation_size_bytes",
        ["heap_gen0"] = "dotnet_gc_last_collection_heap_size_bytes",
        ["heap_gen1"] = "dotnet_gc_last_collection_heap_size_bytes",
        ["heap_gen2"] = "dotnet_gc_last_collection_heap_size_bytes",
        ["heap_loh"] = "dotnet_gc_last_collection_heap_size_bytes",
        ["heap_poh"] = "dotnet_gc_last_collection_heap_size_bytes",
        ["heap_promoted"] = "dotnet_gc_last_collection_promoted_bytes",
        ["heap_pinned_objects"] = "dotnet_gc_last_collection_pinned_objects",
        ["heap_finalization_pending"] = "dotnet_gc_finalization_pending_objects",
        ["gc_num"] = "dotnet_gc_collections",
        ["gc_gen0_num"] = "dotnet_gc_collections",
        ["gc_gen1_num"] = "dotnet_gc_collections",
        ["gc_gen2_num"] = "dotnet_gc_collections",
        ["gc_pause_total_ms"] = "dotnet_gc_pause_time_seconds",
        ["jit_method_num"] = "dotnet_jit_compiled_methods",
        ["jit_il_bytes"] = "dotnet_jit_compiled_il_size_bytes",
        ["jit_time_ms"] = "dotnet_jit_compilation_time_seconds",
        ["assembly_num"] = "dotnet_assemblies_loaded",
        ["exception_num"] = "dotnet_exceptions",
    };

    /// <summary>Numeric keys with no family: rates (Prometheus computes them), the snapshot time, and the inexact pause list.</summary>
    private static readonly string[] NotExported =
    [
        "time", "cpu_usage_percent", "alloc_per_second", "gc_per_second", "gc_pause_per_second", "gc_pause_percent",
        "rate_interval_seconds", "gc_pause",
    ];

    private static readonly string[] Generations = ["gen0", "gen1", "gen2", "loh", "poh"];

    [Test]
    public async Task The_text_format_is_the_default_with_its_content_type_and_exact_length()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.HandlePrometheus("/metrics"));
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage response = await client.GetAsync("/metrics");
        byte[] body = await response.Content.ReadAsByteArrayAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("text/plain; version=0.0.4; charset=utf-8");
        response.Content.Headers.ContentLength.Should().Be(body.Length);
        response.Headers.TransferEncodingChunked.Should().NotBe(true);
        response.Headers.Vary.Should().Contain("Accept");
        Encoding.UTF8.GetString(body).Should().StartWith("# HELP process_cpu_seconds_total ").And.EndWith("\n").And.NotContain("# EOF");
    }

    [TestCase(Scrapes.PrometheusAccept)]
    [TestCase("application/openmetrics-text; version=1.0.0")]
    [TestCase("application/openmetrics-text")]
    public async Task OpenMetrics_is_served_when_accept_prefers_it(string accept)
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.HandlePrometheus("/metrics"));
        using HttpClient client = TestServers.Client(server);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.TryAddWithoutValidation("Accept", accept);

        using HttpResponseMessage response = await client.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        response.Content.Headers.ContentType!.ToString().Should().Be("application/openmetrics-text; version=1.0.0; charset=utf-8");
        body.Should().EndWith("\n# EOF\n");
        body.Should().Contain("# TYPE process_cpu_seconds counter\n").And.Contain("\nprocess_cpu_seconds_total ");
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task The_whole_output_parses_strictly_with_help_and_type_for_every_family(bool openMetrics)
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.HandlePrometheus("/metrics"));
        using HttpClient client = TestServers.Client(server);

        Dictionary<string, ExpositionFamily> families = await Scrapes.ParseAsync(client, "/metrics", openMetrics);

        families.Should().NotBeEmpty();
        families.Values.Should().OnlyContain(f => f.Help!.Length > 0 && f.Samples.Count > 0);
        string counter = openMetrics ? "process_cpu_seconds" : "process_cpu_seconds_total";
        families[counter].Type.Should().Be("counter");
        families.Should().NotContainKey("dotnet_gc_pause_seconds", "per-collection pauses are not exact, so there is no histogram");
    }

    [Test]
    public async Task Every_numeric_json_key_but_the_rates_has_a_family()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats").HandlePrometheus("/metrics"));
        using HttpClient client = TestServers.Client(server);

        JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats");
        Dictionary<string, ExpositionFamily> openMetrics = await Scrapes.ParseAsync(client, "/metrics", openMetrics: true);
        Dictionary<string, ExpositionFamily> text = await Scrapes.ParseAsync(client, "/metrics", openMetrics: false);

        var numericKeys = json.EnumerateObject()
            .Where(p => p.Value.ValueKind is JsonValueKind.Number or JsonValueKind.Array)
            .Select(p => p.Name)
            .ToList();
        numericKeys.Should().HaveCount(RuntimeStatsJsonWriter.Keys.Length - 7, "every key but the 5 strings and 2 booleans is a number");
        foreach (string key in numericKeys.Except(NotExported))
        {
            FamilyOfKey.Should().ContainKey(key, $"JSON key '{key}' needs a Prometheus family");
            string family = FamilyOfKey[key];
            openMetrics.Should().ContainKey(family, $"JSON key '{key}'");
            string textName = openMetrics[family].Type == "counter" ? family + "_total" : family;
            text.Should().ContainKey(textName, $"JSON key '{key}'");
        }
    }

    [Test]
    public async Task Values_agree_with_the_json_snapshot()
    {
        GC.Collect();
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats").HandlePrometheus("/metrics"));
        using HttpClient client = TestServers.Client(server);

        JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats");
        Dictionary<string, ExpositionSample> samples = ExpositionParser.Samples(await Scrapes.ParseAsync(client, "/metrics", openMetrics: false));

        ExpositionSample info = samples.Values.Single(s => s.Name == "dotnet_runtime_info");
        info.Value.Should().Be(1);
        info.Labels["pid"].Should().Be(json.GetProperty("pid").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.Labels["version"].Should().Be(json.GetProperty("dotnet_version").GetString());
        info.Labels["os"].Should().Be(json.GetProperty("os").GetString());
        info.Labels["arch"].Should().Be(json.GetProperty("arch").GetString());
        samples["dotnet_process_cpus{}"].Value.Should().Be(json.GetProperty("cpu_num").GetInt32());
        samples["process_start_time_seconds{}"].Value.Should().BeApproximately(json.GetProperty("process_start_time").GetInt64() / 1e9, 0.002);
        samples["process_resident_memory_bytes{}"].Value.Should().BeGreaterThan(1 << 20);
        samples["dotnet_gc_memory_total_available_bytes{}"].Value.Should().Be(json.GetProperty("memory_limit").GetInt64());
        double collections = samples.Values.Where(s => s.Name == "dotnet_gc_collections_total").Sum(s => s.Value);
        collections.Should().BeGreaterThanOrEqualTo(json.GetProperty("gc_num").GetInt32(), "the scrape came after the JSON");
        samples["dotnet_gc_collections_total{gc_heap_generation=gen2}"].Value.Should().BeGreaterThanOrEqualTo(1, "GC.Collect() ran a full collection");
        samples["process_cpu_seconds_total{}"].Value.Should().BeApproximately(
            samples["dotnet_process_cpu_time_seconds_total{cpu_mode=user}"].Value + samples["dotnet_process_cpu_time_seconds_total{cpu_mode=system}"].Value, 1e-9);
        samples.Keys.Where(k => k.StartsWith("dotnet_gc_last_collection_heap_size_bytes{", StringComparison.Ordinal))
            .Should().BeEquivalentTo(Generations.Select(g => $"dotnet_gc_last_collection_heap_size_bytes{{gc_heap_generation={g}}}"));
    }

    [Test]
    public async Task Counters_never_go_down_between_two_scrapes()
    {
        using var meter = new Meter($"Monotonic.{Guid.NewGuid():N}");
        Counter<long> requests = meter.CreateCounter<long>("requests");
        Histogram<double> latency = meter.CreateHistogram<double>("latency", "s");
        await using StatsServer server = await TestServers.StartAsync(s => s.HandlePrometheus("/metrics").ExportMeters(meter.Name));
        using HttpClient client = TestServers.Client(server);
        requests.Add(1);
        latency.Record(0.2);

        Dictionary<string, ExpositionSample> first = ExpositionParser.Samples(await Scrapes.ParseAsync(client, "/metrics", openMetrics: true));
        for (int i = 0; i < 3; i++)
        {
            GC.Collect(i);
            try
            {
                throw new InvalidOperationException("counted");
            }
            catch (InvalidOperationException)
            {
                // Only the first-chance exception counter should see it.
            }
        }

        requests.Add(2);
        latency.Record(3);
        Dictionary<string, ExpositionFamily> secondFamilies = await Scrapes.ParseAsync(client, "/metrics", openMetrics: true);
        Dictionary<string, ExpositionSample> second = ExpositionParser.Samples(secondFamilies);

        var monotonic = secondFamilies.Values
            .Where(f => f.Type is "counter" or "histogram")
            .SelectMany(f => f.Samples)
            .Where(s => !s.Name.EndsWith("_sum", StringComparison.Ordinal))
            .ToList();
        monotonic.Should().NotBeEmpty();
        foreach (ExpositionSample sample in monotonic)
        {
            if (first.TryGetValue(sample.Identity, out ExpositionSample? before))
            {
                sample.Value.Should().BeGreaterThanOrEqualTo(before.Value, $"{sample.Identity} is a counter");
            }
        }

        second["dotnet_exceptions_total{}"].Value.Should().BeGreaterThanOrEqualTo(first["dotnet_exceptions_total{}"].Value + 3);
        second["requests_total{}"].Value.Should().Be(3);
        second["latency_seconds_count{}"].Value.Should().Be(2);
    }

    [Test]
    public async Task Head_sends_the_headers_and_length_without_a_body()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.HandlePrometheus("/metrics"));

        RawResponse head = await TestServers.SendRawAsync(
            server.Url, $"HEAD /metrics HTTP/1.1\r\nHost: 127.0.0.1:{server.Url.Port}\r\nConnection: close\r\n\r\n", head: true);

        head.Status.Should().Be(200);
        head.Headers["Content-Type"].Should().Be("text/plain; version=0.0.4; charset=utf-8");
        long.Parse(head.Headers["Content-Length"], System.Globalization.CultureInfo.InvariantCulture).Should().BePositive();
        head.TrailingBytes.Should().Be(0);
    }

    [Test]
    public async Task A_handler_created_directly_serves_the_built_in_families()
    {
        using var handler = new PrometheusHandler();
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/metrics", handler));
        using HttpClient client = TestServers.Client(server);

        Dictionary<string, ExpositionFamily> families = await Scrapes.ParseAsync(client, "/metrics", openMetrics: false);

        families.Should().ContainKey("process_cpu_seconds_total").And.ContainKey("dotnet_gc_collections_total");
        families.Keys.Should().OnlyContain(k => k.StartsWith("process_", StringComparison.Ordinal) || k.StartsWith("dotnet_", StringComparison.Ordinal));
    }

    [Test]
    public async Task Open_and_max_file_descriptors_are_exported_on_linux_only()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.HandlePrometheus("/metrics"));
        using HttpClient client = TestServers.Client(server);

        Dictionary<string, ExpositionSample> samples = ExpositionParser.Samples(await Scrapes.ParseAsync(client, "/metrics", openMetrics: false));
        if (!OperatingSystem.IsLinux())
        {
            samples.Keys.Should().NotContain(k => k.StartsWith("process_open_fds", StringComparison.Ordinal), "it is Linux-only, as in the Go client");
            return;
        }

        double open = samples["process_open_fds{}"].Value;
        open.Should().BeInRange(3, samples["process_max_fds{}"].Value);
        open.Should().BeApproximately(Directory.GetFileSystemEntries("/proc/self/fd").Length, 64, "other tests open sockets meanwhile");
    }

    [Test]
    [Category("Concurrency")]
    public async Task Ten_concurrent_scrapes_of_both_formats_all_parse()
    {
        using var meter = new Meter($"Concurrent.{Guid.NewGuid():N}");
        Counter<long> hits = meter.CreateCounter<long>("hits");
        Histogram<double> sizes = meter.CreateHistogram<double>("sizes");
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats").HandlePrometheus("/metrics").ExportMeters(meter.Name));
        using HttpClient client = TestServers.Client(server);
        using var stop = new CancellationTokenSource();
        using var allWriting = new CountdownEvent(4);
        Task writers = Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (long i = 0; !stop.IsCancellationRequested; i++)
            {
                hits.Add(1, new KeyValuePair<string, object?>("worker", w));
                sizes.Record(i % 1000, new KeyValuePair<string, object?>("worker", w));
                if (i == 0)
                {
                    allWriting.Signal();
                }
            }
        })));

        // Scrape only once every writer has recorded: before that a histogram may have no series, and no family.
        allWriting.Wait(TestServers.Bound).Should().BeTrue("the writers start");

        var scrapes = Enumerable.Range(0, 10).Select(i => i % 3 == 2
            ? Scrapes.GetJsonAsync(client, "/api/stats").ContinueWith(t => (object)t.Result, TaskScheduler.Default)
            : Scrapes.ParseAsync(client, "/metrics", openMetrics: i % 2 == 0).ContinueWith(t => (object)t.Result, TaskScheduler.Default));
        object[] results = await Task.WhenAll(scrapes).WaitAsync(TestServers.Bound);
        await stop.CancelAsync();
        await writers.WaitAsync(TestServers.Bound);

        results.Should().HaveCount(10);
        results.OfType<Dictionary<string, ExpositionFamily>>().Should().OnlyContain(f => f.ContainsKey("sizes"));
    }

    [Test]
    public async Task Promtool_reports_nothing_on_a_real_scrape()
    {
        string? promtool = Repository.FindOnPath("promtool");
        if (promtool is null)
        {
            Assert.Fail("promtool was not found on PATH. Install the Debian package 'prometheus' (apt-get install prometheus; .ci/run does) to run this check.");
        }

        using var meter = new Meter($"Promtool.Demo.{Guid.NewGuid():N}");
        meter.CreateCounter<long>("demo.buffers.allocated", "{buffer}", "Buffers allocated.").Add(5);
        var sizes = meter.CreateHistogram<double>("demo.buffer.size", "By", "Size of each buffer.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1_000, 10_000, 100_000] });
        sizes.Record(500);
        sizes.Record(50_000);
        meter.CreateObservableGauge("demo.buffers.retained", () => 3, "{buffer}", "Buffers held now.");
        Counter<long> hostile = meter.CreateCounter<long>("odd name-with.dots and spaces");
        hostile.Add(1, new KeyValuePair<string, object?>("path", "C:\\dir \"quoted\"\nnext line ünïcødé ✓"), new KeyValuePair<string, object?>("http.method", "GET"));
        meter.CreateGauge<double>("not.a.number").Record(double.NaN);
        meter.CreateGauge<double>("infinite").Record(double.PositiveInfinity);
        await using StatsServer server = await TestServers.StartAsync(s => s
            .HandlePrometheus("/metrics")
            .ExportMeters(meter.Name)
            .Publish("queue_depth", () => 7)
            .Publish("ready", () => true));
        using HttpClient client = TestServers.Client(server);
        string body = await Scrapes.GetTextAsync(client, "/metrics", openMetrics: false);
        ExpositionParser.Parse(body, openMetrics: false);

        (int exitCode, string output) = await Piped.RunAsync(promtool!, ["check", "metrics"], body);

        output.Should().BeEmpty($"promtool check metrics must report nothing; it said:\n{output}\n--- scrape ---\n{body}");
        exitCode.Should().Be(0);
    }
}
