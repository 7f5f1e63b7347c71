using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>
/// Opt-in GC events against the real runtime, through each source: the diagnostic port (the default) and the listener
/// (the fallback). Alone, so every collection seen is one the test made.
/// </summary>
[NonParallelizable]
[TestFixture("diagnostic_port")]
[TestFixture("event_listener")]
public class GcEventFeedTests(string sourceName)
{
    private readonly GcEventSourceKind source = sourceName == GcEventFeed.PortName ? GcEventSourceKind.DiagnosticPort : GcEventSourceKind.EventListener;

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private string SourceName => sourceName;

    [Test]
    public async Task Forced_collections_of_each_generation_are_each_listed_with_their_generation_and_pause()
    {
        const int PerGeneration = 5;
        await using StatsServer server = await TestServers.StartAsync(s => Enable(s.Handle("/api/stats")));
        using HttpClient client = TestServers.Client(server);
        await ListeningAsync(client);
        TimeSpan pauseBefore = GC.GetTotalPauseDuration();
        int countBefore = GC.CollectionCount(0);
        int gen1Before = GC.CollectionCount(1);
        int gen2Before = GC.CollectionCount(2);

        for (int generation = 0; generation <= 2; generation++)
        {
            for (int i = 0; i < PerGeneration; i++)
            {
                GC.Collect(generation, GCCollectionMode.Forced, blocking: true);
            }
        }

        double pauseMs = (GC.GetTotalPauseDuration() - pauseBefore).TotalMilliseconds;
        int collections = GC.CollectionCount(0) - countBefore;
        JsonElement after = await Poll.UntilAsync(
            _ => Scrapes.GetJsonAsync(client, "/api/stats"),
            s => Numbers(s, "gc_pause_num").Max() >= countBefore + collections,
            Bound,
            "the events of the forced collections");

        int fresh = Numbers(after, "gc_pause_num").TakeWhile(n => n > countBefore).Count();
        double[] pauses = [.. Numbers(after, "gc_pause").Take(fresh)];
        long[] generations = [.. Numbers(after, "gc_pause_gen").Take(fresh).Select(g => (long)g)];
        string[] reasons = [.. after.GetProperty("gc_pause_reason").EnumerateArray().Take(fresh).Select(r => r.GetString()!)];

        after.GetProperty("gc_events_source").GetString().Should().Be(SourceName);
        fresh.Should().Be(collections, "one entry per collection the runtime counted");
        generations.Count(g => g == 2).Should().Be(GC.CollectionCount(2) - gen2Before, "as many gen2 entries as the runtime counted");
        generations.Count(g => g >= 1).Should().Be(GC.CollectionCount(1) - gen1Before, "as many gen1-or-higher entries as the runtime counted");
        long[] induced = [.. generations.Where((_, i) => reasons[i] == "induced").Reverse()];
        induced.Should().HaveCount(3 * PerGeneration);
        for (int i = 0; i < induced.Length; i++)
        {
            // The GC may raise a collection to a higher generation than asked (it did, now and then, for gen1), never lower.
            induced[i].Should().BeGreaterThanOrEqualTo(i / PerGeneration, $"collection {i} was forced at generation {i / PerGeneration}");
        }

        induced.Count(g => g == 2).Should().BeGreaterThanOrEqualTo(PerGeneration);
        pauses.Should().OnlyContain(p => p > 0);
        pauses.Sum().Should().BeApproximately(pauseMs, Math.Max(2, pauseMs * 0.5), "the events time the same suspensions the runtime sums");
    }

    [Test]
    public async Task Fifty_collections_between_two_requests_are_all_listed()
    {
        await using StatsServer server = await TestServers.StartAsync(s => Enable(s.Handle("/api/stats")));
        using HttpClient client = TestServers.Client(server);
        await ListeningAsync(client);
        await Scrapes.GetJsonAsync(client, "/api/stats");
        int countBefore = GC.CollectionCount(0);

        for (int i = 0; i < 50; i++)
        {
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        }

        int last = GC.CollectionCount(0);
        JsonElement second = await Poll.UntilAsync(
            _ => Scrapes.GetJsonAsync(client, "/api/stats"),
            s => Numbers(s, "gc_pause_num").Max() >= last,
            Bound,
            "the events of 50 collections");

        double[] numbers = [.. Numbers(second, "gc_pause_num").TakeWhile(n => n > countBefore)];
        numbers.Should().HaveCount(last - countBefore).And.HaveCountGreaterThanOrEqualTo(50);
        numbers.Should().BeInDescendingOrder();
        TestContext.Out.WriteLine($"gc_pause after 50 forced collections: {second.GetProperty("gc_pause").GetRawText()}");
        foreach (string sibling in new[] { "gc_pause", "gc_pause_gen", "gc_pause_reason" })
        {
            second.GetProperty(sibling).GetArrayLength().Should().Be(second.GetProperty("gc_pause_num").GetArrayLength(), sibling);
        }
    }

    [Test]
    public async Task The_pause_histogram_counts_every_collection_seen_in_both_formats()
    {
        await using StatsServer server = await TestServers.StartAsync(s => Enable(s.Handle("/api/stats").HandlePrometheus("/metrics")));
        using HttpClient client = TestServers.Client(server);
        await ListeningAsync(client);

        for (int i = 0; i < 10; i++)
        {
            GC.Collect(i % 3, GCCollectionMode.Forced, blocking: true);
        }

        await Poll.UntilAsync(
            _ => Scrapes.GetJsonAsync(client, "/api/stats"),
            s => Numbers(s, "gc_pause_num").Max() >= GC.CollectionCount(0),
            Bound,
            "the events of the forced collections");
        foreach (bool openMetrics in new[] { false, true })
        {
            JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats");
            Dictionary<string, ExpositionSample> samples = ExpositionParser.Samples(await Scrapes.ParseAsync(client, "/metrics", openMetrics));

            double count = samples["dotnet_gc_pause_seconds_count{}"].Value;
            count.Should().Be(json.GetProperty("gc_pause").GetArrayLength(), "fewer than 256 collections: the list holds every one seen");
            samples["dotnet_gc_pause_seconds_bucket{le=+Inf}"].Value.Should().Be(count);
            samples["dotnet_gc_pause_seconds_sum{}"].Value.Should().BeApproximately(Numbers(json, "gc_pause").Sum() / 1000, 0.001);
            samples.Where(s => s.Key.StartsWith("dotnet_gc_collections_by_reason", StringComparison.Ordinal)).Sum(s => s.Value.Value)
                .Should().Be(count, "every collection has one reason");
            samples["dotnet_gc_collections_by_reason_total{gc_reason=induced}"].Value.Should().BeGreaterThanOrEqualTo(10);
        }
    }

    [Test]
    public async Task One_source_serves_every_server_and_goes_with_the_last()
    {
        GcEventFeed.Current(source).Should().BeNull("no server has GC events on");
        StatsServer first = await TestServers.StartAsync(s => Enable(s.Handle("/api/stats")));
        StatsServer second = await TestServers.StartAsync(s => Enable(Enable(s.Handle("/api/stats"))));
        GcEventFeed? shared = GcEventFeed.Current(source);

        shared.Should().NotBeNull();
        shared!.SourceName.Should().Be(SourceName);
        await first.DisposeAsync();
        GcEventFeed.Current(source).Should().BeSameAs(shared, "the second server still uses it");
        await second.DisposeAsync();
        GcEventFeed.Current(source).Should().BeNull("the last server released it");
    }

    [Test]
    public async Task Stopping_a_server_with_events_flowing_ends_its_source_within_the_bound_twenty_times()
    {
        for (int round = 0; round < 20; round++)
        {
            StatsServer server = await TestServers.StartAsync(s => Enable(s.Handle("/api/stats")));
            using (HttpClient client = TestServers.Client(server))
            {
                await ListeningAsync(client);
            }

            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
            Task stop = server.DisposeAsync().AsTask();
            (await Task.WhenAny(stop, Task.Delay(Bound))).Should().BeSameAs(stop, $"round {round}: the stop ends within {Bound}");
            await stop;
            GcEventFeed.Current(source).Should().BeNull($"round {round}: the source stopped with its last server");
        }
    }

    [Test]
    public async Task With_gc_events_off_nothing_listens_and_the_output_is_unchanged()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats").HandlePrometheus("/metrics"));
        using HttpClient client = TestServers.Client(server);
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);

        JsonElement json = await Scrapes.GetJsonAsync(client, "/api/stats");
        Dictionary<string, ExpositionFamily> families = await Scrapes.ParseAsync(client, "/metrics", openMetrics: true);

        GcEventFeed.Current(source).Should().BeNull();
        json.TryGetProperty("gc_events_source", out _).Should().BeFalse();
        json.TryGetProperty("gc_pause_gen", out _).Should().BeFalse();
        families.Should().NotContainKey("dotnet_gc_pause_seconds").And.NotContainKey("dotnet_gc_collections_by_reason");
    }

    private StatsServer Enable(StatsServer server)
    {
        server.Source.EnableGcEvents(source);
        return server;
    }

    /// <summary>Waits until the source's session delivers events: a collection made now shows up.</summary>
    internal static Task<JsonElement> ListeningAsync(HttpClient client) =>
        Poll.UntilAsync(
            async _ =>
            {
                GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                return await Scrapes.GetJsonAsync(client, "/api/stats");
            },
            s => s.GetProperty("gc_pause_num").GetArrayLength() > 0,
            Bound,
            "the GC event source to deliver its first collection");

    internal static IEnumerable<double> Numbers(JsonElement stats, string key) =>
        stats.GetProperty(key).EnumerateArray().Select(e => e.GetDouble());
}
