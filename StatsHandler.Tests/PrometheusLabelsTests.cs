using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>What Prometheus users ask of an exporter: constant labels, an info family for text, and a way to leave the runtime out.</summary>
public class PrometheusLabelsTests
{
    [Test]
    public async Task Constant_labels_reach_every_sample_of_both_formats()
    {
        using var meter = new Meter($"Labels.{Guid.NewGuid():N}");
        Counter<long> jobs = meter.CreateCounter<long>("jobs.done", "{job}");
        Histogram<double> durations = meter.CreateHistogram<double>("job.duration", "ms");
        await using StatsServer server = await TestServers.StartAsync(s => s
            .HandlePrometheus("/metrics")
            .ExportMeters(meter.Name)
            .Publish("queue_depth", () => 4)
            .Publish("build_version", () => "1.2.3 \"rc\"")
            .AddConstantLabel("service", "orders")
            .AddConstantLabel("region", "eu-west-1")
            .AddConstantLabel("version", "1.2.3"));
        jobs.Add(3, new KeyValuePair<string, object?>("queue", "mail"));
        durations.Record(12);
        using HttpClient client = TestServers.Client(server);

        foreach (bool openMetrics in new[] { false, true })
        {
            Dictionary<string, ExpositionFamily> families = await Scrapes.ParseAsync(client, "/metrics", openMetrics);
            List<ExpositionSample> samples = families.Values.SelectMany(f => f.Samples).ToList();

            samples.Should().HaveCountGreaterThan(40);
            samples.Should().OnlyContain(x => x.Labels["service"] == "orders" && x.Labels["region"] == "eu-west-1", $"openMetrics={openMetrics}");
            ExpositionSample runtimeInfo = samples.Single(x => x.Name == "dotnet_runtime_info");
            runtimeInfo.Labels["version"].Should().StartWith(".NET ", "a sample's own label wins over a constant one");
            samples.Where(x => x.Name != "dotnet_runtime_info").Should().OnlyContain(x => x.Labels["version"] == "1.2.3");
            samples.Single(x => x.Name == "jobs_done_total").Labels.Should().Contain("queue", "mail");
            samples.Should().Contain(x => x.Name == "job_duration_seconds_bucket" && x.Labels["le"] == "+Inf" && x.Labels["service"] == "orders");
            ExpositionSample info = samples.Single(x => x.Name == "build_version_info");
            info.Labels["value"].Should().Be("1.2.3 \"rc\"");
            info.Value.Should().Be(1);
            families.Should().ContainKey(openMetrics ? "build_version" : "build_version_info");
            families[openMetrics ? "build_version" : "build_version_info"].Type.Should().Be(openMetrics ? "info" : "gauge");
        }
    }

    [Test]
    public void Constant_labels_go_into_every_sample_line_and_skip_names_the_sample_has()
    {
        ConstantLabels labels = ConstantLabels.Of([new("b", "x"), new("c", "q\"uote")]);
        const string Input = "# HELP x Help with a \\n and {braces}.\n# TYPE x gauge\nx 1\nx{a=\"}=,\\\"\",b=\"2\"} 2\nx{ a = \"1\" } 3\n# EOF\n";
        using var output = new PrometheusBuffer(256);

        labels.Apply(System.Text.Encoding.UTF8.GetBytes(Input), output);

        System.Text.Encoding.UTF8.GetString(output.WrittenSpan).Should().Be(
            "# HELP x Help with a \\n and {braces}.\n# TYPE x gauge\n" +
            "x{b=\"x\",c=\"q\\\"uote\"} 1\n" +
            "x{c=\"q\\\"uote\",a=\"}=,\\\"\",b=\"2\"} 2\n" +
            "x{b=\"x\",c=\"q\\\"uote\", a = \"1\" } 3\n# EOF\n");
    }

    [Test]
    public void Constant_labels_are_validated_like_other_labels()
    {
        using var server = new StatsServer("127.0.0.1:0");
        server.AddConstantLabel("service", "orders");

        server.Invoking(s => s.AddConstantLabel("service", "again")).Should().Throw<ArgumentException>().WithMessage("The constant label 'service' is set already*");
        foreach (string bad in new[] { "", "1st", "has-dash", "a b", "with:colon" })
        {
            server.Invoking(s => s.AddConstantLabel(bad, "x")).Should().Throw<ArgumentException>().WithMessage($"Invalid constant label name '{bad}'*");
        }

        foreach (string reserved in new[] { "__name__", "le", "quantile" })
        {
            server.Invoking(s => s.AddConstantLabel(reserved, "x")).Should().Throw<ArgumentException>().WithMessage($"Invalid constant label name '{reserved}'*Prometheus's own*");
        }

        server.Invoking(s => s.AddConstantLabel("region", null!)).Should().Throw<ArgumentNullException>();
    }

    [Test]
    public async Task Constant_labels_are_locked_once_the_server_starts()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.HandlePrometheus("/metrics"));

        server.Invoking(s => s.AddConstantLabel("service", "late")).Should().Throw<InvalidOperationException>().WithMessage("*already started*");
    }

    [Test]
    public async Task The_runtime_families_can_be_left_out()
    {
        using var meter = new Meter($"NoRuntime.{Guid.NewGuid():N}");
        Counter<long> hits = meter.CreateCounter<long>("hits");
        await using StatsServer server = await TestServers.StartAsync(s => s
            .HandlePrometheus("/metrics", new PrometheusHandlerOptions { IncludeRuntimeMetrics = false })
            .HandlePrometheus("/all")
            .ExportMeters(meter.Name)
            .Publish("depth", () => 1)
            .EnableGcEvents());
        hits.Add(2);
        using HttpClient client = TestServers.Client(server);

        foreach (bool openMetrics in new[] { false, true })
        {
            Dictionary<string, ExpositionFamily> appOnly = await Scrapes.ParseAsync(client, "/metrics", openMetrics);
            Dictionary<string, ExpositionFamily> all = await Scrapes.ParseAsync(client, "/all", openMetrics);

            appOnly.Keys.Should().BeEquivalentTo(["hits" + (openMetrics ? string.Empty : "_total"), "depth", "statshandler_dropped_series" + (openMetrics ? string.Empty : "_total")]);
            all.Keys.Should().Contain(k => k.StartsWith("process_")).And.Contain(k => k.StartsWith("dotnet_gc_pause_seconds"));
        }
    }

    [Test]
    public async Task A_published_value_hidden_by_an_instrument_is_reported_once()
    {
        using var meter = new Meter($"Clash.{Guid.NewGuid():N}");
        meter.CreateObservableGauge("queue_depth", () => 9);
        var errors = new List<Exception>();
        await using StatsServer server = await TestServers.StartAsync(s => s
            .HandlePrometheus("/metrics")
            .Handle("/api/stats")
            .ExportMeters(meter.Name)
            .Publish("queue_depth", () => 4)
            .OnError(e =>
            {
                lock (errors)
                {
                    errors.Add(e);
                }
            }));
        using HttpClient client = TestServers.Client(server);

        for (int i = 0; i < 3; i++)
        {
            Dictionary<string, ExpositionFamily> families = await Scrapes.ParseAsync(client, "/metrics", openMetrics: i % 2 == 0);
            families["queue_depth"].Samples.Single().Value.Should().Be(9, "the instrument keeps the name");
        }

        (await Scrapes.GetJsonAsync(client, "/api/stats")).GetProperty("published").GetProperty("queue_depth").GetInt64().Should().Be(4);
        errors.Should().ContainSingle().Which.Message.Should().Be(
            "Published value 'queue_depth' is left out of the Prometheus output: an exported instrument already writes the name 'queue_depth'. " +
            "The JSON document still shows it under 'published'. Publish it under another name.");
    }

    [Test]
    public void A_text_and_a_number_that_would_share_a_sample_name_are_refused()
    {
        using var server = new StatsServer("127.0.0.1:0");
        server.Publish("build", () => "abc");

        server.Invoking(s => s.Publish("build_info", () => 1)).Should().Throw<InvalidOperationException>()
            .WithMessage("Published values 'build' and 'build_info' would both write the Prometheus sample 'build_info'*");
    }

    [Test]
    public async Task Promtool_and_the_official_python_parser_accept_labels_and_info_in_both_formats()
    {
        string? promtool = Repository.FindOnPath("promtool");
        // Debian's python3-prometheus-client is installed for the system interpreter, which a pyenv shim may hide.
        string? python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : Repository.FindOnPath("python3");
        if (promtool is null || python is null)
        {
            Assert.Fail("promtool or python3 was not found on PATH. Install the Debian packages 'prometheus' and 'python3-prometheus-client' (.ci/run does).");
        }

        using var meter = new Meter($"Official.{Guid.NewGuid():N}");
        Counter<long> jobs = meter.CreateCounter<long>("jobs.done", "{job}", "Jobs done.");
        Histogram<double> durations = meter.CreateHistogram<double>("job.duration", "ms", "Job durations.");
        await using StatsServer server = await TestServers.StartAsync(s => s
            .HandlePrometheus("/metrics")
            .ExportMeters(meter.Name)
            .Publish("build_version", () => "1.2.3")
            .AddConstantLabel("service", "orders")
            .AddConstantLabel("region", "eu \"west\" 1"));
        jobs.Add(3, new KeyValuePair<string, object?>("queue", "mail"));
        durations.Record(12);
        using HttpClient client = TestServers.Client(server);
        string text = await Scrapes.GetTextAsync(client, "/metrics", openMetrics: false);
        string openMetricsText = await Scrapes.GetTextAsync(client, "/metrics", openMetrics: true);

        (int promtoolExit, string promtoolSaid) = await Piped.RunAsync(promtool!, ["check", "metrics"], text);
        promtoolSaid.Should().BeEmpty($"promtool check metrics reports nothing on the text format:\n{text}");
        promtoolExit.Should().Be(0);

        const string Script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_families
            data = sys.stdin.read()
            parse = om_families if sys.argv[1] == "om" else text_string_to_metric_families
            families = list(parse(data))
            samples = [s for f in families for s in f.samples]
            assert all(s.labels.get("service") == "orders" for s in samples), "a sample lacks the service label"
            om = sys.argv[1] == "om"
            info = [f for f in families if f.name == ("build_version" if om else "build_version_info")]
            assert info and info[0].type == ("info" if om else "gauge"), [(f.name, f.type) for f in families if "build" in f.name]
            assert info[0].samples[0].labels["value"] == "1.2.3" and info[0].samples[0].value == 1
            print(len(families), "families,", len(samples), "samples; region =", samples[0].labels["region"])
            """;
        foreach ((string format, string body) in new[] { ("text", text), ("om", openMetricsText) })
        {
            (int exit, string output) = await Piped.RunAsync(python!, ["-c", Script, format], body);
            exit.Should().Be(0, $"the official parser ({format}) accepts the scrape: {output}");
            output.Should().Contain("region = eu \"west\" 1");
            TestContext.Progress.WriteLine($"prometheus_client ({format}): {output.Trim()}");
        }
    }
}
