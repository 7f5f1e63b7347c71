using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>Which source the GC events come from: the process's own diagnostic port, or the listener where the port is off.</summary>
[NonParallelizable]
public class GcEventSourceChoiceTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [TestCase("DOTNET_EnableDiagnostics")]
    [TestCase("DOTNET_EnableDiagnostics_IPC")]
    public async Task A_process_whose_port_the_environment_turns_off_gets_its_events_from_the_listener_and_says_so(string variable)
    {
        await using DemoProcess demo = await DemoProcess.StartAsync(new Dictionary<string, string> { [variable] = "0" });
        using var client = new HttpClient { BaseAddress = demo.Url, Timeout = Bound };
        JsonElement stats = await Poll.UntilAsync(
            _ => Scrapes.GetJsonAsync(client, "/api/stats"),
            s => s.TryGetProperty("gc_pause_num", out JsonElement n) && n.GetArrayLength() > 0,
            Bound,
            "the demo's first collection through the listener");

        stats.GetProperty("gc_events_source").GetString().Should().Be(GcEventFeed.ListenerName);
        GcEventFeedTests.Numbers(stats, "gc_pause").Should().OnlyContain(p => p >= 0);
    }

    [Test]
    public async Task In_this_process_the_port_is_found_and_feeds_the_events()
    {
        DiagnosticPort.Unavailable().Should().BeNull("the test process runs with its diagnostic port on");
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats").EnableGcEvents());
        using HttpClient client = TestServers.Client(server);
        JsonElement stats = await GcEventFeedTests.ListeningAsync(client);

        stats.GetProperty("gc_events_source").GetString().Should().Be(GcEventFeed.PortName);
        server.Source.GcEventSource.Should().Be(GcEventFeed.PortName);
        server.Source.GcEventFallbackReason.Should().BeNull();
    }
}
