namespace StatsHandler;

/// <summary>
/// What the profile routes run to collect each profile: the <c>Profiles/</c> room's collectors in a server
/// (<see cref="Runtime"/>) or a test's own. Each runs on a thread of its own, blocks until it has its profile, and
/// ends early when its token is cancelled (the client went away, the server stops, the route timed out).
/// </summary>
internal sealed class ProfileCollectors
{
    /// <summary>Samples the CPU for the given time. <see cref="IOException"/> when the diagnostic port is missing or refused.</summary>
    public required Func<TimeSpan, CancellationToken, ProfileResult> Cpu { get; init; }

    /// <summary>Takes every managed thread's stack. <see cref="IOException"/> when the diagnostic port is missing or refused.</summary>
    public required Func<CancellationToken, ProfileResult> Threads { get; init; }

    /// <summary>Counts the live objects by type after a full collection. <see cref="IOException"/> when the port is missing or refused.</summary>
    public required Func<CancellationToken, ProfileResult> Heap { get; init; }

    /// <summary>The real collectors, on the process's own diagnostic port.</summary>
    public static ProfileCollectors Runtime { get; } = new()
    {
        Cpu = static (duration, cancel) =>
        {
            CpuProfile profile = CpuProfile.Collect(duration, cancel);
            return new ProfileResult(profile.WriteJson, profile.ToPprof);
        },
        Threads = static cancel =>
        {
            ThreadStacks stacks = ThreadStacks.Collect(cancel);
            return new ProfileResult(stacks.WriteJson, writeText: stacks.WriteText);
        },
        Heap = static cancel =>
        {
            HeapProfile heap = HeapProfile.Collect(cancel);
            return new ProfileResult(heap.WriteJson, heap.ToPprof, heap.WriteText);
        },
    };
}
