namespace StatsHandler.Tests.Diagnostics;

/// <summary>The process's one-session gate. Alone: the gate is the process's, shared with the trace and profile tests.</summary>
[NonParallelizable]
public class DiagnosticGateTests
{
    [Test]
    public void A_second_entry_is_refused_naming_the_first_until_the_first_leaves()
    {
        DiagnosticGate.Lease? first = DiagnosticGate.TryEnter("a heap snapshot", out string? none);
        DiagnosticGate.Lease? second = DiagnosticGate.TryEnter("a trace", out string? busy);
        string? running = DiagnosticGate.Running;
        first!.Dispose();
        using DiagnosticGate.Lease? third = DiagnosticGate.TryEnter("a trace", out _);

        none.Should().BeNull();
        second.Should().BeNull();
        busy.Should().Be("a heap snapshot is already running in this process (one trace or profile at a time); try again when it ends");
        running.Should().Be("a heap snapshot");
        third.Should().NotBeNull("the first left");
        DiagnosticGate.Running.Should().Be("a trace");
    }

    [Test]
    public void A_lease_disposed_twice_never_frees_the_next_holders_gate()
    {
        DiagnosticGate.Lease first = DiagnosticGate.TryEnter("a CPU profile", out _)!;
        first.Dispose();
        using DiagnosticGate.Lease second = DiagnosticGate.TryEnter("a thread-stack sample", out _)!;

        first.Dispose();

        DiagnosticGate.Running.Should().Be("a thread-stack sample");
        DiagnosticGate.TryEnter("a trace", out _).Should().BeNull();
    }
}
