using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

public class PublishedValueTests
{
    [Test]
    public async Task Published_values_show_in_json_and_numeric_ones_as_gauges()
    {
        var queue = new Queue<int>([1, 2, 3]);
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats")
            .HandlePrometheus("/metrics")
            .Publish("queue_depth", () => queue.Count)
            .Publish("hit_ratio", () => 0.75)
            .Publish("ready", () => true)
            .Publish("build_commit", () => "abc123")
            .Publish("nothing", () => (string?)null));
        using HttpClient client = TestServers.Client(server);

        JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats");
        Dictionary<string, ExpositionFamily> families = await Scrapes.ParseAsync(client, "/metrics", openMetrics: false);

        json.EnumerateObject().Select(p => p.Name).TakeLast(1).Should().Equal("published");
        JsonElement published = json.GetProperty("published");
        published.EnumerateObject().Select(p => p.Name).Should().Equal("queue_depth", "hit_ratio", "ready", "build_commit", "nothing");
        published.GetProperty("queue_depth").GetInt64().Should().Be(3);
        published.GetProperty("hit_ratio").GetDouble().Should().Be(0.75);
        published.GetProperty("ready").GetBoolean().Should().BeTrue();
        published.GetProperty("build_commit").GetString().Should().Be("abc123");
        published.GetProperty("nothing").ValueKind.Should().Be(JsonValueKind.Null);
        families["queue_depth"].Type.Should().Be("gauge");
        families["queue_depth"].Samples.Single().Value.Should().Be(3);
        families["hit_ratio"].Samples.Single().Value.Should().Be(0.75);
        families["ready"].Samples.Single().Value.Should().Be(1);
        families.Should().NotContainKey("build_commit").And.NotContainKey("nothing");
    }

    [Test]
    public async Task Values_are_read_at_each_request_and_may_be_published_after_start()
    {
        int depth = 1;
        await using StatsServer server = await TestServers.StartAsync(s => s.HandlePrometheus("/metrics").Publish("depth", () => Volatile.Read(ref depth)));
        using HttpClient client = TestServers.Client(server);

        (await Scrapes.ParseAsync(client, "/metrics", false))["depth"].Samples.Single().Value.Should().Be(1);
        Volatile.Write(ref depth, 9);
        server.Publish("late", () => 2.5);
        Dictionary<string, ExpositionFamily> families = await Scrapes.ParseAsync(client, "/metrics", false);

        families["depth"].Samples.Single().Value.Should().Be(9);
        families["late"].Samples.Single().Value.Should().Be(2.5);
    }

    [Test]
    public async Task Without_exports_the_json_keeps_exactly_the_documented_keys()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        using HttpClient client = TestServers.Client(server);

        JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats");

        json.EnumerateObject().Select(p => p.Name).Should().Equal(RuntimeStatsJsonWriter.Keys);
    }

    [TestCase("queue depth")]
    [TestCase("9lives")]
    [TestCase("")]
    [TestCase("queue-depth")]
    [TestCase("queue.depth")]
    [TestCase("déjà")]
    public void Invalid_names_throw_naming_the_name_and_the_rule(string name)
    {
        using var server = new StatsServer("127.0.0.1:0");

        Action publish = () => server.Publish(name, () => 1);

        publish.Should().Throw<ArgumentException>()
            .WithMessage($"Invalid published name '{name}': use letters, digits and underscores*[a-zA-Z_][a-zA-Z0-9_]*queue_depth*")
            .Which.ParamName.Should().Be("name");
    }

    [TestCase("process_queue")]
    [TestCase("dotnet_things")]
    [TestCase("statshandler_x")]
    public void Names_with_a_built_in_prefix_are_refused(string name)
    {
        using var server = new StatsServer("127.0.0.1:0");

        Action publish = () => server.Publish(name, () => 1);

        publish.Should().Throw<ArgumentException>().WithMessage($"Invalid published name '{name}': the prefix '*' belongs to the built-in Prometheus families*");
    }

    [Test]
    public void A_duplicate_name_throws_naming_it()
    {
        using var server = new StatsServer("127.0.0.1:0");
        server.Publish("queue_depth", () => 1);

        Action again = () => server.Publish("queue_depth", () => "text");

        again.Should().Throw<InvalidOperationException>().WithMessage("A value named 'queue_depth' is already published*");
    }

    [Test]
    public void Publishing_on_a_disposed_server_throws()
    {
        var server = new StatsServer("127.0.0.1:0");
        server.Dispose();

        Action publish = () => server.Publish("x", () => 1);

        publish.Should().Throw<ObjectDisposedException>();
    }

    [Test]
    public async Task A_callback_that_throws_is_left_out_and_reported_without_failing_the_response()
    {
        var errors = new List<Exception>();
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats")
            .HandlePrometheus("/metrics")
            .Publish("broken", (Func<long>)(() => throw new InvalidOperationException("disk gone")))
            .Publish("fine", () => 1)
            .OnError(e =>
            {
                lock (errors)
                {
                    errors.Add(e);
                }
            }));
        using HttpClient client = TestServers.Client(server);

        JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats");
        Dictionary<string, ExpositionFamily> families = await Scrapes.ParseAsync(client, "/metrics", openMetrics: true);

        json.GetProperty("published").EnumerateObject().Select(p => p.Name).Should().Equal("fine");
        families.Should().ContainKey("fine").And.NotContainKey("broken");
        lock (errors)
        {
            errors.Should().HaveCount(2).And.OnlyContain(e => e.Message.Contains("'broken'") && e.InnerException!.Message == "disk gone");
        }
    }

    [Test]
    public async Task Non_finite_numbers_are_json_null_and_prometheus_tokens()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats")
            .HandlePrometheus("/metrics")
            .Publish("not_a_number", () => double.NaN)
            .Publish("too_big", () => double.PositiveInfinity));
        using HttpClient client = TestServers.Client(server);

        JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats");
        string text = await Scrapes.GetTextAsync(client, "/metrics", openMetrics: false);

        json.GetProperty("published").GetProperty("not_a_number").ValueKind.Should().Be(JsonValueKind.Null);
        json.GetProperty("published").GetProperty("too_big").ValueKind.Should().Be(JsonValueKind.Null);
        text.Should().Contain("\nnot_a_number NaN\n").And.Contain("\ntoo_big +Inf\n");
        ExpositionParser.Parse(text, openMetrics: false);
    }
}
