using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using StatsHandler.Benchmarks;

// ./build.sh bench            the full run, for the README
// ./build.sh bench --short    a quick look (fewer iterations)
// ./build.sh bench load       the side-by-side load harness (see LoadHarness)
// ./build.sh bench bare ...   a bare HttpListener serving a fixed body, the harness's baseline
// ./build.sh bench profilecost   what ThreadStacks and CpuProfile take and how long the runtime is suspended per sample (ProfileCostHarness)
// ./build.sh bench gcpaired   EnableGcEvents off / through the port / through the listener side by side on a representative workload (GcEventPairedHarness)
if (args.Length > 0 && args[0] == "load")
{
    return await LoadHarness.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "gcpaired")
{
    return GcEventPairedHarness.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "profilecost")
{
    return ProfileCostHarness.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "bare")
{
    return await BareListener.RunAsync(args[1..]);
}

bool quick = args.Contains("--short");
string[] rest = args.Where(a => a != "--short").ToArray();
IConfig config = DefaultConfig.Instance
    .WithOptions(ConfigOptions.JoinSummary | ConfigOptions.DisableLogFile)
    .AddJob(quick ? Job.ShortRun.WithId("short") : Job.Default.WithId("full"));
if (rest.Length == 0)
{
    rest = ["--filter", "*"];
}

BenchmarkSwitcher.FromAssembly(typeof(SnapshotBenchmarks).Assembly).Run(rest, config);
return 0;
