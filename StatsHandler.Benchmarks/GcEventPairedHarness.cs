using System.Diagnostics;

namespace StatsHandler.Benchmarks;

/// <summary>
/// <c>./build.sh bench gcpaired [pairs]</c>: the representative workload (<see cref="GcEventBenchmarks.HashGarbage"/>)
/// in rotating blocks with <c>EnableGcEvents</c> off, on through the diagnostic port and on through the in-process
/// listener, in one process, and the median of the paired ratios; then the idle cost of each source and the port's
/// event latency.
/// On a shared machine whose load swings from one minute to the next, separate benchmark processes differ by more
/// than the 1% to be resolved; blocks of 200 operations side by side see the same load.
/// </summary>
internal static class GcEventPairedHarness
{
    private const int OpsPerBlock = 200;

    public static int Run(string[] args)
    {
        int pairs = args.Length > 0 && int.TryParse(args[0], out int n) && n > 0 ? n : 15;
        object? sink = null;
        for (int i = 0; i < 400; i++)
        {
            GcEventBenchmarks.HashGarbage(ref sink);
        }

        var off = new List<Block>();
        var port = new List<Block>();
        var listener = new List<Block>();
        for (int pair = 0; pair < pairs; pair++)
        {
            // Rotate the order, so a drift in the machine's load favours no arm.
            for (int k = 0; k < 3; k++)
            {
                switch ((pair + k) % 3)
                {
                    case 0:
                        off.Add(RunBlock(null, ref sink));
                        break;
                    case 1:
                        port.Add(RunBlock(GcEventSourceKind.DiagnosticPort, ref sink));
                        break;
                    default:
                        listener.Add(RunBlock(GcEventSourceKind.EventListener, ref sink));
                        break;
                }
            }
        }

        Console.WriteLine($"off:      {Describe(off)}");
        Console.WriteLine($"port:     {Describe(port)}");
        Console.WriteLine($"listener: {Describe(listener)}");
        foreach ((string name, List<Block> on) in new[] { ("port", port), ("listener", listener) })
        {
            double gcPerOp = Median(off.Select(b => b.Gen0PerOp));
            Console.WriteLine(
                $"paired median ratio {name}/off: wall {Ratio(on, off, b => b.WallUs):F4}, benchmark thread CPU {Ratio(on, off, b => b.ThreadUs):F4}, "
                + $"process CPU {Ratio(on, off, b => b.ProcessUs):F4}; per collection: wall {PerCollection(on, off, b => b.WallUs, gcPerOp):F1} us, "
                + $"process CPU {PerCollection(on, off, b => b.ProcessUs, gcPerOp):F1} us");
        }

        Console.WriteLine($"idle, process CPU over 3 s: off {Idle(null):F1} ms, port {Idle(GcEventSourceKind.DiagnosticPort):F1} ms, listener {Idle(GcEventSourceKind.EventListener):F1} ms");
        Console.WriteLine($"port event latency (GC.Collect returned to the entry in the log), 20 collections: {Latency()}");
        GC.KeepAlive(sink);
        return 0;
    }

    /// <summary>Process CPU in ms spent over 3 s of doing nothing, with the source running or not.</summary>
    private static double Idle(GcEventSourceKind? source)
    {
        using StatsSource? stats = source is { } kind ? new StatsSource().EnableGcEvents(kind) : null;
        using var settle = new ManualResetEventSlim();
        settle.Wait(TimeSpan.FromSeconds(1));
        TimeSpan before = Environment.CpuUsage.TotalTime;
        settle.Wait(TimeSpan.FromSeconds(3));
        return (Environment.CpuUsage.TotalTime - before).TotalMilliseconds;
    }

    /// <summary>Median and largest delay from a forced collection's return to its entry in a port-fed log.</summary>
    private static string Latency()
    {
        using StatsSource stats = new StatsSource().EnableGcEvents(GcEventSourceKind.DiagnosticPort);
        GcEventLog log = stats.GcEvents!;
        var delays = new List<double>();
        using var wait = new ManualResetEventSlim();
        for (int i = 0; i < 21; i++)
        {
            long before = log.Snapshot().Count;
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
            var clock = Stopwatch.StartNew();
            while (log.Snapshot().Count == before && clock.Elapsed < TimeSpan.FromSeconds(5))
            {
                wait.Wait(TimeSpan.FromMilliseconds(1));
            }

            if (i > 0)
            {
                delays.Add(clock.Elapsed.TotalMilliseconds);
            }
        }

        return $"median {Median(delays):F0} ms, max {delays.Max():F0} ms";
    }

    private static double PerCollection(List<Block> on, List<Block> off, Func<Block, double> figure, double gcPerOp) =>
        (Median(on.Select(figure)) - Median(off.Select(figure))) / gcPerOp;

    private static Block RunBlock(GcEventSourceKind? source, ref object? sink)
    {
        using StatsSource? stats = source is { } kind ? new StatsSource().EnableGcEvents(kind) : null;
        for (int i = 0; i < 20; i++)
        {
            GcEventBenchmarks.HashGarbage(ref sink);
        }

        int gen0 = GC.CollectionCount(0);
        TimeSpan process = Environment.CpuUsage.TotalTime;
        long thread = GcEventBenchmarks.ThreadCpuNs();
        var wall = Stopwatch.StartNew();
        for (int i = 0; i < OpsPerBlock; i++)
        {
            GcEventBenchmarks.HashGarbage(ref sink);
        }

        wall.Stop();
        return new Block(
            wall.Elapsed.TotalMicroseconds / OpsPerBlock,
            (GcEventBenchmarks.ThreadCpuNs() - thread) / 1000.0 / OpsPerBlock,
            (Environment.CpuUsage.TotalTime - process).TotalMicroseconds / OpsPerBlock,
            (GC.CollectionCount(0) - gen0) / wall.Elapsed.TotalSeconds,
            (GC.CollectionCount(0) - gen0) / (double)OpsPerBlock);
    }

    private static string Describe(List<Block> blocks) =>
        $"{blocks.Count} blocks of {OpsPerBlock} ops; median per op: wall {Median(blocks.Select(b => b.WallUs)):F1} us, "
        + $"benchmark thread CPU {Median(blocks.Select(b => b.ThreadUs)):F1} us, process CPU {Median(blocks.Select(b => b.ProcessUs)):F1} us; "
        + $"{Median(blocks.Select(b => b.Gen0PerSecond)):F0} gen0 GCs/s";

    private static double Ratio(List<Block> on, List<Block> off, Func<Block, double> figure) =>
        Median(on.Zip(off, (a, b) => figure(a) / figure(b)));

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted[sorted.Length / 2];
    }

    private readonly record struct Block(double WallUs, double ThreadUs, double ProcessUs, double Gen0PerSecond, double Gen0PerOp);
}
