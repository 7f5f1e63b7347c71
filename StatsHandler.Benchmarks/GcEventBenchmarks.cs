using System.Diagnostics.Tracing;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace StatsHandler.Benchmarks;

/// <summary>Which GC event listener a <see cref="GcEventBenchmarks"/> run has on.</summary>
public enum GcListener
{
    /// <summary>No listener: the baseline.</summary>
    Off,

    /// <summary>
    /// An <see cref="EventListener"/> on the runtime's source with the same keyword and level as ours, whose
    /// <c>OnEventWritten</c> does nothing: what any in-process listener costs, before our code runs.
    /// </summary>
    Bare,

    /// <summary><c>StatsServer.EnableGcEvents()</c>.</summary>
    Ours,
}

/// <summary>
/// Two allocating workloads with no GC event listener, a bare one and ours: the listener's whole cost lands on
/// collections, so this is where it shows. Target: at most 1% slower with ours on a representative workload.
/// </summary>
/// <remarks>
/// BenchmarkDotNet's time is wall-clock, which on a busy 2-core machine includes the event dispatch thread taking
/// the benchmark's core. Each run therefore also prints, at its end, the benchmark thread's own CPU time per
/// operation (with workstation GC a gen0 collection runs on the allocating thread, so this includes the GC and the
/// runtime writing its events) and the whole process's (which adds the dispatch thread's decoding).
/// </remarks>
[MemoryDiagnoser]
public class GcEventBenchmarks
{
    private StatsServer? _server;
    private EventListener? _bare;
    private object? _sink;
    private long _threadCpuNs;
    private long _ops;
    private TimeSpan _processCpuStart;
    private int _gen0Start;

    [Params(GcListener.Off, GcListener.Bare, GcListener.Ours)]
    public GcListener Listener { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        switch (Listener)
        {
            case GcListener.Bare:
                _bare = new BareGcListener();
                break;
            case GcListener.Ours:
                _server = new StatsServer("127.0.0.1:0").EnableGcEvents();
                break;
        }

        _processCpuStart = Environment.CpuUsage.TotalTime;
        _gen0Start = GC.CollectionCount(0);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        double processCpuUs = (Environment.CpuUsage.TotalTime - _processCpuStart).TotalMicroseconds;
        int gen0 = GC.CollectionCount(0) - _gen0Start;
        Console.WriteLine(
            $"// CPU {Listener}: {_ops} ops, {gen0} gen0 GCs ({(double)gen0 / _ops:F3}/op); per op: benchmark thread "
            + $"{_threadCpuNs / 1000.0 / _ops:F1} us, process {processCpuUs / _ops:F1} us; per gen0 GC: thread "
            + $"{_threadCpuNs / 1000.0 / gen0:F2} us, process {processCpuUs / gen0:F2} us");
        _server?.Dispose();
        _bare?.Dispose();
    }

    /// <summary>
    /// The extreme case: allocates 64 MB in 1 KB arrays and does nothing else, so a gen0 collection comes every
    /// ~250 us (thousands per second). A fixed per-collection cost is magnified here far beyond any real app's.
    /// </summary>
    [Benchmark]
    public int AllocateAndCollect()
    {
        long start = ThreadCpuNs();
        int sum = 0;
        for (int i = 0; i < 64 * 1024; i++)
        {
            // Stored in a field so the JIT cannot put it on the stack: it must be a real heap allocation.
            var garbage = new byte[1000];
            _sink = garbage;
            sum += garbage.Length;
        }

        Count(start);
        return sum;
    }

    /// <summary>
    /// A representative busy service: work that allocates 1 KB buffers and does some computing on each (a request
    /// reading and hashing a small body), about 400 MB/s here: a few hundred gen0 collections per second.
    /// </summary>
    [Benchmark]
    public uint WorkWithGarbage()
    {
        long start = ThreadCpuNs();
        uint hash = HashGarbage(ref _sink);
        Count(start);
        return hash;
    }

    /// <summary>One operation of <see cref="WorkWithGarbage"/>: 1,024 buffers of 1 KB, each filled twice by a hash.</summary>
    internal static uint HashGarbage(ref object? sink)
    {
        uint hash = 2166136261;
        for (int i = 0; i < 1024; i++)
        {
            var buffer = new byte[1000];
            sink = buffer;
            for (int round = 0; round < 2; round++)
            {
                for (int j = 0; j < buffer.Length; j++)
                {
                    hash = (hash ^ (byte)(j + round + buffer[j])) * 16777619;
                    buffer[j] = (byte)hash;
                }
            }
        }

        return hash;
    }

    private void Count(long start)
    {
        _threadCpuNs += ThreadCpuNs() - start;
        _ops++;
    }

    internal static long ThreadCpuNs()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        _ = ClockGetTime(ThreadCpuClock, out TimeSpec now);
        return (now.Seconds * 1_000_000_000) + now.Nanoseconds;
    }

    private const int ThreadCpuClock = 3; // CLOCK_THREAD_CPUTIME_ID

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private sealed class BareGcListener : EventListener
    {
        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Informational, (EventKeywords)0x1);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
        }
    }
}
