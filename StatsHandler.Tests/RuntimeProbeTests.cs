using System.Runtime;
using System.Runtime.CompilerServices;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>The real probe against the real GC. Alone, so no other test's collections blur the figures.</summary>
[NonParallelizable]
public class RuntimeProbeTests
{
    [Test]
    public void Heap_figures_and_the_pause_list_follow_a_background_collection_once_it_has_ended()
    {
        RequireBackgroundGc();
        var clock = new ManualTimeProvider();
        using var probe = new RuntimeProbe();
        RuntimeStats before = ReadWithGarbageInGen2(probe, clock);
        long backgroundBefore = GC.GetGCMemoryInfo(GCKind.Background).Index;

        GC.Collect(2, GCCollectionMode.Forced, blocking: false);

        // Read as a 1 ms poller would, until the runtime says the collection is over: the reads made after its last
        // pause and before its sweep ends are the ones that used to leave the figures stale.
        var bound = System.Diagnostics.Stopwatch.StartNew();
        while (GC.GetGCMemoryInfo(GCKind.Background).Index <= backgroundBefore)
        {
            bound.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "a forced background collection ends");
            probe.Read(clock.GetUtcNow());
        }

        GCMemoryInfo background = GC.GetGCMemoryInfo(GCKind.Background);
        clock.Advance(RuntimeProbe.BackgroundRecheck);
        RuntimeStats after = probe.Read(clock.GetUtcNow());

        GCMemoryInfo latest = GC.GetGCMemoryInfo(GCKind.Any);
        after.HeapAllocBytes.Should().Be(latest.HeapSizeBytes, "the figures are the latest completed collection's");
        after.MemoryCommittedBytes.Should().Be(latest.TotalCommittedBytes);
        after.HeapGen2Bytes.Should().Be(latest.GenerationInfo[2].SizeAfterBytes);
        (after.HeapAllocBytes - after.HeapFragmentedBytes).Should().BeLessThan(
            before.HeapAllocBytes - before.HeapFragmentedBytes - (16 << 20), "the background collection freed the garbage (it does not compact: the space shows as fragmentation)");
        double backgroundPause = background.PauseDurations.ToArray().Sum(p => p.TotalMilliseconds);
        after.GcPauses.ToArray().Should().Contain(backgroundPause, "the background collection's pauses are listed once it has ended");
    }

    [Test]
    public void A_background_collection_followed_at_once_by_a_blocking_one_lists_no_zero_pause()
    {
        RequireBackgroundGc();
        using var probe = new RuntimeProbe();
        var clock = new ManualTimeProvider();
        for (int run = 0; run < 9; run++)
        {
            GC.KeepAlive(Garbage());
            GC.Collect(2, GCCollectionMode.Forced, blocking: false);
            GC.Collect(2, GCCollectionMode.Forced, blocking: true);
            clock.Advance(RuntimeProbe.BackgroundRecheck);
            RuntimeStats stats = probe.Read(clock.GetUtcNow());

            stats.GcPauses.ToArray().Should().OnlyContain(pause => pause > 0, $"run {run}: every entry is a real pause");
        }
    }

    [Test]
    public void Memory_limit_is_the_limit_the_gc_works_to()
    {
        using var probe = new RuntimeProbe();
        GC.Collect();

        RuntimeStats stats = probe.Read(DateTimeOffset.UtcNow);

        // In a container the GC's limit is 75% of the container's (GCHeapHardLimitPercent), not the container's limit.
        stats.MemoryLimitBytes.Should().Be(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
    }

    [Test]
    public void Memory_load_moves_in_whole_percent_steps_of_the_memory_the_gc_sees()
    {
        if (GC.GetConfigurationVariables().TryGetValue("GCHeapHardLimit", out object? limit) && limit is ulong and not 0)
        {
            Assert.Ignore("A GC heap hard limit is set: memory_limit is then not the memory that memory_load is a percent of.");
        }

        using var probe = new RuntimeProbe();
        GC.Collect();

        RuntimeStats stats = probe.Read(DateTimeOffset.UtcNow);

        // The GC reads the load as a whole percent (rounded down) and multiplies: load = percent * memory / 100.
        long percent = (long)Math.Round(stats.MemoryLoadBytes * 100.0 / stats.MemoryLimitBytes);
        (stats.MemoryLimitBytes * percent / 100).Should().BeCloseTo(stats.MemoryLoadBytes, 1, $"{percent}% of {stats.MemoryLimitBytes}");
    }

    private static void RequireBackgroundGc()
    {
        if (GCSettings.IsServerGC is false && GC.GetConfigurationVariables().TryGetValue("ConcurrentGC", out object? value) && value is false)
        {
            Assert.Ignore("Background GC is off in this test run (DOTNET_gcConcurrent=0).");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static RuntimeStats ReadWithGarbageInGen2(RuntimeProbe probe, ManualTimeProvider clock)
    {
        byte[][] garbage = Garbage();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true);
        RuntimeStats stats = probe.Read(clock.GetUtcNow());
        GC.KeepAlive(garbage);
        return stats;
    }

    private static byte[][] Garbage()
    {
        // 32 MB in small objects, so the collection that frees them changes every heap figure.
        var garbage = new byte[32 * 1024][];
        for (int i = 0; i < garbage.Length; i++)
        {
            garbage[i] = new byte[1000];
        }

        return garbage;
    }
}
