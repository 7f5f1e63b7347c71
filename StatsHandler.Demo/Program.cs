using System.Net;
using System.Runtime.InteropServices;
using StatsHandler;

// The README's example, runnable: serves /api/stats, /debug/dashboard and /healthz until Ctrl+C.
string address = "localhost:8080";
for (int i = 0; i < args.Length; i++)
{
    if (args[i] is "--addr" && i + 1 < args.Length)
    {
        address = args[++i];
    }
    else if (args[i].StartsWith("--addr=", StringComparison.Ordinal))
    {
        address = args[i]["--addr=".Length..];
    }
    else
    {
        Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: StatsHandler.Demo [--addr ADDR]   (default localhost:8080)");
        return 2;
    }
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

// `docker stop`, systemd and `kill` send SIGTERM: stop as cleanly as on Ctrl+C.
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

StatsServer server;
try
{
    server = new StatsServer(address)
        .Handle("/api/stats")
        .Handle("/debug/dashboard", new DashboardHandler(new DashboardHandlerOptions { StatsUrl = "/api/stats" }))
        .HandleFunc("/healthz", (context, ct) => StatsResponse.WriteTextAsync(context, 200, "ok\n", ct))
        .OnError(e => Console.Error.WriteLine($"error: {e.Message}"));
    await server.StartAsync(stop.Token);
}
catch (Exception e) when (e is ArgumentException or HttpListenerException or PlatformNotSupportedException)
{
    Console.Error.WriteLine($"StatsHandler.Demo: {e.Message}");
    return 1;
}

await using (server)
{
    Uri stats = new(server.Url, "api/stats");
    Console.WriteLine($"Serving runtime stats on {server.Url}");
    Console.WriteLine($"  {stats}");
    Console.WriteLine($"  {new Uri(server.Url, "debug/dashboard")}   (live dashboard, open it in a browser)");
    Console.WriteLine($"  {new Uri(server.Url, "healthz")}");
    Console.WriteLine($"Try: curl -s '{stats}?pp=1'");
    Console.WriteLine("Press Ctrl+C to stop.");

    // A little background work so the numbers move: allocations, collections, timers, thread-pool items.
    Task churn = Task.Run(
        async () =>
        {
            var keep = new List<byte[]>();
            using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
            while (await tick.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
            {
                keep.Add(new byte[Random.Shared.Next(1_000, 200_000)]);
                if (keep.Count > 200)
                {
                    keep.RemoveRange(0, 100);
                }
            }
        },
        stop.Token);

    await server.ListenAndServeAsync(stop.Token);
    try
    {
        await churn;
    }
    catch (OperationCanceledException)
    {
        // Ctrl+C: the background work ends with the server.
    }
}

Console.WriteLine("Stopped.");
return 0;
