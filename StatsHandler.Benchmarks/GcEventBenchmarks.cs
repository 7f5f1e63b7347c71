using BenchmarkDotNet.Attributes;

namespace StatsHandler.Benchmarks;

/// <summary>
/// A GC-heavy workload with the GC event listener off and on: the listener's whole cost lands on collections, so this
/// is where it shows. Target: at most 1% slower with it on.
/// </summary>
[MemoryDiagnoser]
public class GcEventBenchmarks
{
    private StatsServer? _server;
    private object? _sink;

    [Params(false, true)]
    public bool GcEvents { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (GcEvents)
        {
            _server = new StatsServer("127.0.0.1:0").EnableGcEvents();
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _server?.Dispose();

    /// <summary>Allocates 64 MB in small short-lived arrays: dozens of gen0 collections per call.</summary>
    [Benchmark]
    public int AllocateAndCollect()
    {
        int sum = 0;
        for (int i = 0; i < 64 * 1024; i++)
        {
            // Stored in a field so the JIT cannot put it on the stack: it must be a real heap allocation.
            var garbage = new byte[1000];
            _sink = garbage;
            sum += garbage.Length;
        }

        return sum;
    }
}
