using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using StatsHandler;

// The README's example, runnable: serves /api/stats, /metrics, /debug/dashboard, /healthz, /debug/trace and /debug/pprof until Ctrl+C.
string address = "localhost:8080";
bool churn = true;
bool gcEvents = true;
bool busy = false;
const string Usage =
    "Usage: StatsHandler.Demo [--addr ADDR] [--no-churn] [--no-gc-events] [--busy]\n" +
    "  --addr ADDR       where to listen (default localhost:8080; ':8080' for all interfaces, '127.0.0.1:0' for any free port)\n" +
    "  --no-churn        no background allocations (the load harness measures the endpoints alone)\n" +
    "  --no-gc-events    without the runtime's GC events (no per-collection pauses)\n" +
    "  --busy            one thread spinning in Busy.Spin and one blocked in Blocked.Wait, for the profiles to find\n" +
    "  -h, --help        this text";
for (int i = 0; i < args.Length; i++)
{
    if (args[i] is "-h" or "--help" or "-?")
    {
        Console.WriteLine(Usage);
        return 0;
    }
    else if (args[i] is "--no-churn")
    {
        // The load harness measures the endpoint alone, without the demo's own background allocations.
        churn = false;
    }
    else if (args[i] is "--no-gc-events")
    {
        // The load harness measures the server with and without the runtime's GC events (their cost is the runtime's).
        gcEvents = false;
    }
    else if (args[i] is "--busy")
    {
        // Something known for a CPU profile and a thread dump to find: go tool pprof, dotnet-stack.
        busy = true;
    }
    else if (args[i] is "--addr" && i + 1 < args.Length)
    {
        address = args[++i];
    }
    else if (args[i].StartsWith("--addr=", StringComparison.Ordinal))
    {
        address = args[i]["--addr=".Length..];
    }
    else
    {
        Console.Error.WriteLine($"Unknown argument '{args[i]}'.\n{Usage}");
        return 2;
    }
}

// Ends the background work once the server has stopped. ListenAndServeAsync itself stops gracefully on Ctrl+C and on
// SIGTERM (`docker stop`, systemd, `kill`).
using var stop = new CancellationTokenSource();

// The app's own metrics: a Meter whose instruments the background work below updates, exported with the runtime's.
using var meter = new Meter("StatsHandler.Demo");
Counter<long> buffersAllocated = meter.CreateCounter<long>("demo.buffers.allocated", "{buffer}", "Buffers the background work allocated.");
Histogram<double> bufferSizes = meter.CreateHistogram<double>(
    "demo.buffer.size", "By", "Size of each buffer allocated.",
    advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1_000, 10_000, 50_000, 100_000, 200_000] });
int retained = 0;
meter.CreateObservableGauge("demo.buffers.retained", () => Volatile.Read(ref retained), "{buffer}", "Buffers the background work holds now.");

// A text value: the JSON shows it, the dashboard puts it in its header, Prometheus gets demo_version_info{value="..."} 1.
string version = System.Reflection.Assembly.GetEntryAssembly()?.GetName().Version?.ToString() ?? "unknown";

StatsServer server;
try
{
    server = new StatsServer(address)
        .Handle("/api/stats")
        .HandlePrometheus("/metrics")
        .ExportMeters("StatsHandler.Demo")
        .Publish("demo_retained_buffers", () => Volatile.Read(ref retained))
        .Publish("demo_version", () => version)
        .Handle("/debug/dashboard", new DashboardHandler(new DashboardHandlerOptions { StatsUrl = "/api/stats", ProfilesUrl = "/debug/pprof" }))
        .HandleFunc("/healthz", (context, ct) => StatsResponse.WriteTextAsync(context, 200, "ok\n", ct))
        .HandleTrace("/debug/trace")
        .HandleProfiles("/debug/pprof")
        .OnError(e => Console.Error.WriteLine($"error: {e.Message}"));
    if (gcEvents)
    {
        // Every collection's pause, generation and reason: the complete gc_pause list and the pause histogram.
        server.EnableGcEvents();
    }

    await server.StartAsync(stop.Token);
}
catch (Exception e) when (e is ArgumentException or HttpListenerException or PlatformNotSupportedException or InvalidOperationException)
{
    Console.Error.WriteLine($"StatsHandler.Demo: {e.Message}");
    return 1;
}

await using (server)
{
    Uri stats = new(server.Url, "api/stats");
    Console.WriteLine($"Serving runtime stats on {server.Url}");
    Console.WriteLine($"  {stats}");
    Console.WriteLine($"  {new Uri(server.Url, "metrics")}");
    Console.WriteLine($"  {new Uri(server.Url, "debug/dashboard")}   (live dashboard, open it in a browser)");
    Console.WriteLine($"  {new Uri(server.Url, "healthz")}");
    Console.WriteLine($"  {new Uri(server.Url, "debug/trace")}?seconds=5&profile=cpu   (a nettrace of this process)");
    Console.WriteLine($"  {new Uri(server.Url, "debug/pprof")}   (CPU profile, thread stacks, heap by type: go tool pprof reads them)");
    Console.WriteLine($"Try: curl -s '{stats}?pp=1'");
    Console.WriteLine("Press Ctrl+C to stop.");

    // A little background work so the numbers move: allocations, collections, timers, thread-pool items.
    Task background = !churn ? Task.CompletedTask : Task.Run(
        async () =>
        {
            var keep = new List<byte[]>();
            using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
            while (await tick.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
            {
                // One Activity per buffer, as a traced request would have: the histogram keeps its trace id as an exemplar.
                using Activity activity = new Activity("demo.buffer").SetIdFormat(ActivityIdFormat.W3C).Start();
                byte[] buffer = new byte[Random.Shared.Next(1_000, 200_000)];
                keep.Add(buffer);
                buffersAllocated.Add(1);
                bufferSizes.Record(buffer.Length);
                if (keep.Count > 200)
                {
                    keep.RemoveRange(0, 100);
                }

                Volatile.Write(ref retained, keep.Count);
            }
        },
        stop.Token);

    if (busy)
    {
        Busy.Start(stop.Token);
        Blocked.Start(stop.Token);
        Console.WriteLine("Busy: thread 'demo-busy' spins in Busy.Spin, thread 'demo-blocked' waits in Blocked.Wait.");
    }

    await server.ListenAndServeAsync();
    stop.Cancel();
    try
    {
        await background;
    }
    catch (OperationCanceledException)
    {
        // The background work ends with the server.
    }
}

Console.WriteLine("Stopped.");
return 0;
