using System.Runtime;
using BenchmarkDotNet.Attributes;

namespace StatsHandler.Benchmarks;

/// <summary>The cost of each runtime API the probe reads, to see where a snapshot's time goes.</summary>
[MemoryDiagnoser]
public class ProbeBenchmarks
{
    private ProcSelf? _procSelf;

    [GlobalSetup]
    public void Setup() => _procSelf = ProcSelf.TryOpen();

    [GlobalCleanup]
    public void Cleanup() => _procSelf?.Dispose();

    [Benchmark]
    public TimeSpan CpuUsage() => Environment.CpuUsage.TotalTime;

    [Benchmark]
    public long ProcSelfStatm() => _procSelf!.TryReadResident(out long bytes) ? bytes : 0;

    [Benchmark]
    public long GcCounters() => GC.CollectionCount(0) + GC.CollectionCount(1) + GC.CollectionCount(2) + GC.GetTotalPauseDuration().Ticks;

    [Benchmark]
    public long GcMemory() => GC.GetTotalMemory(false) + GC.GetTotalAllocatedBytes(false);

    [Benchmark]
    public long ThreadPoolCounters() => ThreadPool.ThreadCount + ThreadPool.PendingWorkItemCount + ThreadPool.CompletedWorkItemCount;

    [Benchmark]
    public long TimersAndLocks() => Timer.ActiveCount + Monitor.LockContentionCount;

    [Benchmark]
    public long Jit() => JitInfo.GetCompiledMethodCount(false) + JitInfo.GetCompiledILBytes(false) + JitInfo.GetCompilationTime(false).Ticks;

    [Benchmark]
    public long Clock() => TimeProvider.System.GetUtcNow().UtcTicks + TimeProvider.System.GetTimestamp();

    [Benchmark]
    public int LatencyMode() => (int)GCSettings.LatencyMode + Environment.ProcessorCount;
}
