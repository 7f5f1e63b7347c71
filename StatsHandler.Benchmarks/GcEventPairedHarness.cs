using System.Diagnostics;

namespace StatsHandler.Benchmarks;

/// <summary>
/// <c>./build.sh bench gcpaired [pairs]</c>: the representative workload (<see cref="GcEventBenchmarks.HashGarbage"/>)
/// in alternating blocks with <c>EnableGcEvents</c> off and on, in one process, and the median of the paired ratios.
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
        var on = new List<Block>();
        for (int pair = 0; pair < pairs; pair++)
        {
            // Alternate which goes first, so a drift in the machine's load favours neither.
            bool onFirst = pair % 2 == 1;
            (onFirst ? on : off).Add(RunBlock(onFirst, ref sink));
            (onFirst ? off : on).Add(RunBlock(!onFirst, ref sink));
        }

        Console.WriteLine($"off: {Describe(off)}");
        Console.WriteLine($"on:  {Describe(on)}");
        Console.WriteLine(
            $"paired median ratio on/off: wall {Ratio(on, off, b => b.WallUs):F4}, benchmark thread CPU {Ratio(on, off, b => b.ThreadUs):F4}, "
            + $"process CPU {Ratio(on, off, b => b.ProcessUs):F4}");
        GC.KeepAlive(sink);
        return 0;
    }

    private static Block RunBlock(bool gcEvents, ref object? sink)
    {
        using StatsServer? server = gcEvents ? new StatsServer("127.0.0.1:0").EnableGcEvents() : null;
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
            (GC.CollectionCount(0) - gen0) / wall.Elapsed.TotalSeconds);
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

    private readonly record struct Block(double WallUs, double ThreadUs, double ProcessUs, double Gen0PerSecond);
}
