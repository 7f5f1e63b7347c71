using StatsHandler.Tests.Support;

namespace StatsHandler.Tests.Diagnostics;

/// <summary>Sessions on the test process's own diagnostic port, read back with the hand-written reader.</summary>
[NonParallelizable]
public class EventPipeSessionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Test]
    public void The_port_of_the_test_process_is_found()
    {
        DiagnosticPort.Unavailable().Should().BeNull("the test host runs with the diagnostic port on");
    }

    [Test]
    public async Task A_session_with_an_event_id_filter_streams_only_those_GC_events_and_ends_on_stop()
    {
        var options = new EventPipeSessionOptions(
            [new EventPipeProvider(EventPipeProvider.Runtime, 0x1, 4, EventIds: [1, 2, 3, 9])], RundownKeyword: 0, StackWalk: false);
        using EventPipeSession session = EventPipeSession.Start(options, Bound);
        var sink = new CountingSink();
        var reader = new NetTraceReader(session.Stream, sink);
        Task reading = Task.Factory.StartNew(reader.ReadToEnd, TaskCreationOptions.LongRunning);

        int before = GC.CollectionCount(0);
        for (int i = 0; i < 5; i++)
        {
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        }

        int collections = GC.CollectionCount(0) - before;
        session.Stop().Should().BeTrue("the runtime confirms the stop");
        await reading.WaitAsync(Bound);

        TestContext.Out.WriteLine($"CollectTracing{session.CommandVersion}; events: " + string.Join(", ", sink.ByEvent.Select(e => $"{e.Key.EventId}x{e.Value}")));
        session.CommandVersion.Should().Be(5, ".NET 10 accepts CollectTracing5");
        sink.Info.TicksPerSecond.Should().BePositive();
        sink.Info.ProcessId.Should().Be(Environment.ProcessId);
        sink.ByEvent.Keys.Where(k => k.Provider == EventPipeProvider.Runtime).Select(k => k.EventId).Should().OnlyContain(id => id == 1 || id == 2 || id == 3 || id == 9, "the filter lets only these through");
        sink.Count(EventPipeProvider.Runtime, 1).Should().BeGreaterThanOrEqualTo(collections, "one GCStart per collection");
        sink.Count(EventPipeProvider.Runtime, 2).Should().BeGreaterThanOrEqualTo(collections, "one GCEnd per collection");
    }
}
