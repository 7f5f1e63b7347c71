using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>
/// <c>dashboards/grafana.json</c> must only query what StatsHandler really exposes: every metric in it is looked up in
/// a real scrape of the demo, and every query is parsed by promtool.
/// </summary>
[NonParallelizable]
public partial class GrafanaDashboardTests
{
    private static readonly string[] RulesHeader = ["groups:", "  - name: grafana", "    rules:"];

    private static string DashboardPath => Path.Combine(Repository.Root, "dashboards", "grafana.json");

    [Test]
    [CancelAfter(120_000)]
    public async Task Every_metric_the_dashboard_queries_exists_in_a_scrape_of_the_demo()
    {
        string[] queries = Queries();
        string[] metrics = queries.SelectMany(q => MetricName().Matches(q).Select(m => m.Value)).Distinct().Order().ToArray();

        HashSet<string> scraped = await ScrapeDemoAsync(mustContain: "demo_buffer_size_bytes_bucket");

        TestContext.Progress.WriteLine($"grafana: {queries.Length} queries use {metrics.Length} metrics; the demo's scrape has {scraped.Count} sample names");
        metrics.Should().NotBeEmpty();
        metrics.Where(m => !scraped.Contains(m)).Should().BeEmpty("every metric the dashboard queries must be in a real scrape");
        foreach (string family in new[] { "process_cpu_seconds_total", "dotnet_gc_last_collection_heap_size_bytes", "dotnet_gc_collections_total",
                     "dotnet_gc_pause_time_seconds_total", "dotnet_thread_pool_queue_length", "dotnet_monitor_lock_contentions_total",
                     "dotnet_exceptions_total", "demo_buffers_allocated_total", "demo_buffer_size_bytes_bucket" })
        {
            metrics.Should().Contain(family, "the issue asks for a panel over it");
        }
    }

    [Test]
    public void The_dashboard_has_an_instance_selector_and_every_panel_uses_it()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        JsonElement root = doc.RootElement;

        root.GetProperty("uid").GetString().Should().Be("statshandler-dotnet");
        JsonElement[] variables = root.GetProperty("templating").GetProperty("list").EnumerateArray().ToArray();
        variables.Select(v => v.GetProperty("name").GetString()).Should().Contain(["datasource", "instance"]);
        JsonElement instance = variables.Single(v => v.GetProperty("name").GetString() == "instance");
        instance.GetProperty("multi").GetBoolean().Should().BeTrue();
        instance.GetProperty("includeAll").GetBoolean().Should().BeTrue();

        string[] panelQueries = root.GetProperty("panels").EnumerateArray()
            .Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString()!))
            .ToArray();
        panelQueries.Should().HaveCountGreaterThan(15).And.AllSatisfy(q => q.Should().Contain("instance=~\"$instance\""));
        int[] ids = root.GetProperty("panels").EnumerateArray().Select(p => p.GetProperty("id").GetInt32()).ToArray();
        ids.Should().OnlyHaveUniqueItems();
    }

    [Test]
    public async Task Every_query_is_valid_promql()
    {
        string? promtool = Repository.FindOnPath("promtool");
        promtool.Should().NotBeNull("promtool (Debian package 'prometheus', which .ci/run installs) checks the queries; install it");

        // Substitute Grafana's variables, then let promtool parse each query as a recording rule.
        string[] queries = Queries().Select(q => q.Replace("$__rate_interval", "1m", StringComparison.Ordinal)
            .Replace("$instance", ".*", StringComparison.Ordinal).Replace("$job", ".*", StringComparison.Ordinal)).ToArray();
        string folder = Directory.CreateTempSubdirectory("grafana-rules-").FullName;
        try
        {
            string rules = Path.Combine(folder, "rules.yml");
            await File.WriteAllLinesAsync(rules, RulesHeader
                .Concat(queries.Select((q, i) => $"      - record: q{i}\n        expr: '{q.Replace("'", "''", StringComparison.Ordinal)}'")));

            (int exit, string output) = await Repository.RunAsync(promtool!, ["check", "rules", rules], folder, TimeSpan.FromSeconds(60));

            TestContext.Progress.WriteLine($"promtool check rules ({queries.Length} queries): {output.Trim()}");
            exit.Should().Be(0, output);
            output.Should().Contain($"SUCCESS: {queries.Length} rules found");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string[] Queries()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var queries = new List<string>();
        foreach (JsonElement panel in doc.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (panel.TryGetProperty("targets", out JsonElement targets))
            {
                queries.AddRange(targets.EnumerateArray().Select(t => t.GetProperty("expr").GetString()!));
            }
        }

        foreach (JsonElement variable in doc.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            if (variable.GetProperty("type").GetString() == "query")
            {
                string definition = variable.GetProperty("definition").GetString()!;
                Match inner = LabelValues().Match(definition);
                queries.Add(inner.Success ? inner.Groups[1].Value : definition);
            }
        }

        return [.. queries];
    }

    /// <summary>Runs the built demo on a free loopback port and returns every sample name in its /metrics.</summary>
    private static async Task<HashSet<string>> ScrapeDemoAsync(string mustContain)
    {
        await using DemoProcess demo = await DemoProcess.StartAsync();
        using var client = new HttpClient { BaseAddress = demo.Url, Timeout = TimeSpan.FromSeconds(10) };
        HashSet<string> names = [];
        await Poll.UntilAsync(
            async ct =>
            {
                string text = await client.GetStringAsync("metrics", ct);
                names = text.Split('\n').Where(l => l.Length > 0 && l[0] != '#')
                    .Select(l => SampleName().Match(l).Value).ToHashSet();
                return names;
            },
            n => n.Contains(mustContain),
            TimeSpan.FromSeconds(30),
            $"the demo's scrape to contain {mustContain}",
            CancellationToken.None);
        return names;
    }

    [GeneratedRegex(@"\b(?:process|dotnet|demo|statshandler)_[a-zA-Z0-9_]+")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex SampleName();

    [GeneratedRegex(@"^label_values\((.+),\s*\w+\)$")]
    private static partial Regex LabelValues();
}
