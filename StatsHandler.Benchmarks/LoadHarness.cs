using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace StatsHandler.Benchmarks;

/// <summary>
/// <c>./build.sh load</c>: the demo's endpoints against a bare HttpListener serving a fixed body of the same size, on
/// loopback under the same bounded load (wrk when installed, else a built-in generator). Each server runs in its own
/// process and every StatsServer row is measured in alternation with its bare twin (both processes alive, runs in
/// A-B-B-A order), so that drift in the machine's speed falls on both sides; the ratio is the median of the pairs'
/// ratios. A warm-up lets the JIT settle first (tiered compilation keeps recompiling for about ten seconds under load).
/// Prints throughput, latency, CPU per request and peak RSS. About four minutes; it stops by itself.
/// </summary>
internal static partial class LoadHarness
{
    private const int Connections = 16;
    private static readonly TimeSpan WarmUpRun = TimeSpan.FromSeconds(3);
    private const int WarmUpRounds = 3;
    private static readonly TimeSpan Run = TimeSpan.FromSeconds(3);
    private const int Pairs = 6;
    private static readonly TimeSpan LatencyRun = TimeSpan.FromSeconds(3);

    public static async Task<int> RunAsync(string[] args)
    {
        string? demo = BareListener.Option(args, "--demo");
        if (demo is null || !File.Exists(demo))
        {
            Console.Error.WriteLine("usage: load --demo PATH/StatsHandler.Demo.dll   (./build.sh load passes it)");
            return 2;
        }

        string self = typeof(LoadHarness).Assembly.Location;
        string? wrk = FindOnPath("wrk");
        using var budget = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        Console.WriteLine($"load: {Environment.ProcessorCount} CPUs, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, " +
            $"{System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}; generator: {(wrk is null ? "built-in (.NET HttpClient)" : "wrk")}; " +
            $"{Connections} connections; warm-up {WarmUpRounds} x {WarmUpRun.TotalSeconds:F0} s each server, then {Pairs} pairs of " +
            $"{Run.TotalSeconds:F0} s runs alternated with the bare listener (A-B-B-A), then 1 connection for {LatencyRun.TotalSeconds:F0} s");

        await MeasureIdleAsync(demo, budget.Token);
        var rows = new List<Row>();

        // GC events are measured in rows of their own: their cost is the runtime's event dispatch, not the server's.
        foreach ((string label, string[] flags) in new[] { (string.Empty, new[] { "--no-churn", "--no-gc-events" }), (", GC events on", new[] { "--no-churn" }) })
        {
            await using var stats = await Server.StartAsync(["exec", demo, .. flags, "--addr"], budget.Token);
            if (stats is null)
            {
                Console.WriteLine("  the demo did not answer; rows skipped");
                continue;
            }

            foreach (string path in new[] { "/api/stats", "/metrics" })
            {
                if (await stats.GetAsync(path, budget.Token) is null)
                {
                    Console.WriteLine($"  (the demo does not serve {path}; row skipped)");
                    continue;
                }

                // The body is sized after the warm-up: under load `gc_pause` fills up to its 256 entries, which nearly
                // doubles the JSON body, and the bare twin must serve as many bytes as the server it is compared with.
                await WarmUpAsync(wrk, stats.Url(path), budget.Token);
                byte[]? body = await stats.GetAsync(path, budget.Token);
                await using var bare = body is null ? null : await Server.StartAsync(
                    ["exec", self, "bare", "--size", body.Length.ToString(CultureInfo.InvariantCulture), "--addr"], budget.Token);
                if (body is null || bare is null)
                {
                    Console.WriteLine($"  the bare listener did not start, or {path} stopped answering; row skipped");
                    continue;
                }

                await WarmUpAsync(wrk, bare.Url("/"), budget.Token);
                (Row mine, Row twin) = await MeasurePairAsync(
                    ($"StatsServer {path}{label}", stats, path, body.Length), ($"bare HttpListener, {body.Length} B", bare, "/", body.Length), wrk, budget.Token);
                rows.Add(mine);
                rows.Add(twin);
            }
        }

        Print(rows);
        return 0;
    }

    /// <summary>
    /// A host that embeds the server but is not scraped should spend nothing on it: start the demo without its
    /// background work, let it serve one request, then read its CPU time and thread count over ten idle seconds.
    /// </summary>
    private static async Task MeasureIdleAsync(string demo, CancellationToken budget)
    {
        await using Server? server = await Server.StartAsync(["exec", demo, "--no-churn", "--addr"], budget);
        if (server is null || await server.GetAsync("/api/stats", budget) is null)
        {
            Console.WriteLine("  idle: the demo did not answer; skipped");
            return;
        }

        int pid = server.Process.Id;
        using var settle = new PeriodicTimer(TimeSpan.FromSeconds(1));
        await settle.WaitForNextTickAsync(budget);
        (double cpuBefore, _) = ReadProcess(pid);
        int threadsBefore = ReadThreads(pid);
        using var idle = new PeriodicTimer(TimeSpan.FromSeconds(10));
        await idle.WaitForNextTickAsync(budget);
        (double cpuAfter, _) = ReadProcess(pid);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  idle demo (no background work): {(cpuAfter - cpuBefore) * 1000:F0} ms CPU over 10 s, threads {threadsBefore} -> {ReadThreads(pid)}"));
    }

    /// <summary>Starts <c>dotnet</c> with <paramref name="arguments"/>, its output read and thrown away.</summary>
    private static Process StartDotnet(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task StopAsync(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync(CancellationToken.None);
    }

    private static int ReadThreads(int pid)
    {
        using Process p = Process.GetProcessById(pid);
        return p.Threads.Count;
    }

    /// <summary>Load long enough for tiered compilation to settle and for the server's figures to fill up.</summary>
    private static async Task WarmUpAsync(string? wrk, Uri url, CancellationToken budget)
    {
        for (int i = 0; i < WarmUpRounds; i++)
        {
            await DriveAsync(wrk, url, Connections, WarmUpRun, budget);
        }
    }

    /// <summary>
    /// Measures two warmed-up servers in <see cref="Pairs"/> alternated pairs (A-B, B-A, ...), then one connection
    /// each. CPU time is read around each measured run only.
    /// </summary>
    private static async Task<(Row Mine, Row Twin)> MeasurePairAsync(
        (string Name, Server Server, string Path, int Size) a, (string Name, Server Server, string Path, int Size) b, string? wrk, CancellationToken budget)
    {
        Uri urlA = a.Server.Url(a.Path);
        Uri urlB = b.Server.Url(b.Path);

        var runsA = new List<Result>();
        var runsB = new List<Result>();
        double cpuA = 0;
        double cpuB = 0;
        for (int i = 0; i < Pairs; i++)
        {
            bool aFirst = i % 2 == 0;
            for (int side = 0; side < 2; side++)
            {
                bool isA = (side == 0) == aFirst;
                Server server = isA ? a.Server : b.Server;
                (double before, _) = ReadProcess(server.Process.Id);
                Result result = await DriveAsync(wrk, isA ? urlA : urlB, Connections, Run, budget);
                (double after, _) = ReadProcess(server.Process.Id);
                (isA ? runsA : runsB).Add(result);
                if (isA)
                {
                    cpuA += after - before;
                }
                else
                {
                    cpuB += after - before;
                }
            }
        }

        Result singleA = await DriveAsync(wrk, urlA, 1, LatencyRun, budget);
        Result singleB = await DriveAsync(wrk, urlB, 1, LatencyRun, budget);
        double[] ratios = runsA.Zip(runsB, (x, y) => y.RequestsPerSecond > 0 ? x.RequestsPerSecond / y.RequestsPerSecond : 0).Order().ToArray();
        double medianRatio = Median(ratios);
        Row Make(string name, int size, List<Result> runs, double cpu, Result single, Server server, double ratio, Row? twin) =>
            new(name, size, Median(runs.Select(r => r.RequestsPerSecond)), Median(runs.Select(r => r.P50Ms)), Median(runs.Select(r => r.P99Ms)),
                single.P50Ms, runs.Sum(r => r.Requests) is > 0 and var n ? cpu / n * 1e6 : 0, ReadProcess(server.Process.Id).PeakRssBytes, ratio, twin);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {a.Name}: {string.Join(", ", runsA.Select(r => r.RequestsPerSecond.ToString("F0", CultureInfo.InvariantCulture)))} req/s; " +
            $"{b.Name}: {string.Join(", ", runsB.Select(r => r.RequestsPerSecond.ToString("F0", CultureInfo.InvariantCulture)))} req/s; " +
            $"pair ratios {string.Join(", ", ratios.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))} (median {medianRatio:F2})"));
        Row twin = Make(b.Name, b.Size, runsB, cpuB, singleB, b.Server, 1.0, null);
        return (Make(a.Name, a.Size, runsA, cpuA, singleA, a.Server, medianRatio, twin), twin);
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>One server process on a free loopback port, stopped when disposed.</summary>
    private sealed class Server : IAsyncDisposable
    {
        private readonly string _addr;
        private readonly HttpClient _probe = new() { Timeout = TimeSpan.FromSeconds(2) };

        private Server(Process process, string addr)
        {
            Process = process;
            _addr = addr;
        }

        public Process Process { get; }

        /// <summary>Starts <c>dotnet</c> with <paramref name="command"/> followed by the address, and waits until it answers.</summary>
        public static async Task<Server?> StartAsync(string[] command, CancellationToken budget)
        {
            string addr = $"127.0.0.1:{FreePort()}";
            var server = new Server(StartDotnet([.. command, addr]), addr);
            if (await WaitForAsync(server._probe, server.Url("/"), budget, anyStatus: true) is null)
            {
                await server.DisposeAsync();
                return null;
            }

            return server;
        }

        public Uri Url(string path) => new($"http://{_addr}{path}");

        /// <summary>The body of <paramref name="path"/>, or null when it does not answer 200.</summary>
        public Task<byte[]?> GetAsync(string path, CancellationToken budget) => WaitForAsync(_probe, Url(path), budget, anyStatus: false);

        public async ValueTask DisposeAsync()
        {
            _probe.Dispose();
            await StopAsync(Process);
            Process.Dispose();
        }
    }

    /// <summary>
    /// Waits until <paramref name="url"/> answers. Returns its body when it answered 200 (or any status when
    /// <paramref name="anyStatus"/>: the server is up), null when it answered otherwise or never did.
    /// </summary>
    private static async Task<byte[]?> WaitForAsync(HttpClient client, Uri url, CancellationToken budget, bool anyStatus = false)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        for (int i = 0; i < 150 && await timer.WaitForNextTickAsync(budget); i++)
        {
            try
            {
                using HttpResponseMessage response = await client.GetAsync(url, budget);
                return response.StatusCode == HttpStatusCode.OK || anyStatus ? await response.Content.ReadAsByteArrayAsync(budget) : null;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
        }

        return null;
    }

    private static async Task<Result> DriveAsync(string? wrk, Uri url, int connections, TimeSpan duration, CancellationToken budget) =>
        wrk is not null ? await WrkAsync(wrk, url, connections, duration, budget) : await BuiltInAsync(url, connections, duration, budget);

    private static async Task<Result> WrkAsync(string wrk, Uri url, int connections, TimeSpan duration, CancellationToken budget)
    {
        var start = new ProcessStartInfo(wrk) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in new[] { "-t1", $"-c{connections}", $"-d{(int)duration.TotalSeconds}s", "--latency", url.ToString() })
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start)!;
        string output = await process.StandardOutput.ReadToEndAsync(budget);
        await process.WaitForExitAsync(budget);
        double rps = double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        long requests = long.Parse(RequestsTotal().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        int errors = Errors().Matches(output).Sum(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        if (errors > 0)
        {
            Console.WriteLine($"  wrk reported {errors} socket errors or non-2xx answers for {url}");
        }

        return new Result(rps, requests, WrkPercentile(output, "50%"), WrkPercentile(output, "99%"));
    }

    private static double WrkPercentile(string output, string label)
    {
        Match m = Regex.Match(output, $@"^\s+{Regex.Escape(label)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        double value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    private static async Task<Result> BuiltInAsync(Uri url, int connections, TimeSpan duration, CancellationToken budget)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections };
        using var client = new HttpClient(handler);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(budget);
        stop.CancelAfter(duration);
        var latencies = new List<double>[connections];
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async c =>
        {
            var mine = latencies[c] = new List<double>();
            while (!stop.IsCancellationRequested)
            {
                long t0 = Stopwatch.GetTimestamp();
                try
                {
                    using HttpResponseMessage r = await client.GetAsync(url, stop.Token);
                    await r.Content.CopyToAsync(Stream.Null, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        }));
        double seconds = clock.Elapsed.TotalSeconds;
        double[] all = latencies.SelectMany(l => l).Order().ToArray();
        return new Result(all.Length / seconds, all.Length, all[all.Length / 2], all[(int)(all.Length * 0.99)]);
    }

    /// <summary>CPU seconds used so far and peak resident set (VmHWM) of a process, from procfs.</summary>
    private static (double CpuSeconds, long PeakRssBytes) ReadProcess(int pid)
    {
        if (!OperatingSystem.IsLinux())
        {
            using Process p = Process.GetProcessById(pid);
            return (p.TotalProcessorTime.TotalSeconds, p.PeakWorkingSet64);
        }

        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        double ticks = double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture);
        string status = File.ReadAllText($"/proc/{pid}/status");
        long hwmKb = long.Parse(VmHwm().Match(status).Groups[1].Value, CultureInfo.InvariantCulture);
        return (ticks / 100.0, hwmKb * 1024);
    }

    private static void Print(List<Row> rows)
    {
        Console.WriteLine();
        Console.WriteLine("| server | body B | req/s (16 conn) | vs bare (median of pairs) | p50 ms | p99 ms | 1-conn p50 ms | vs bare | CPU us/req | peak RSS MB | vs bare |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (Row row in rows)
        {
            // Each StatsServer row is compared with the bare twin it was measured in alternation with.
            Row bare = row.Twin ?? row;
            string Ratio(double mine, double theirs) => theirs > 0 ? (mine / theirs).ToString("F2", CultureInfo.InvariantCulture) : "-";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row.Name} | {row.BodyBytes} | {row.RequestsPerSecond:F0} | {row.Ratio:F2} | " +
                $"{row.P50Ms:F3} | {row.P99Ms:F3} | {row.SingleP50Ms:F3} | {Ratio(row.SingleP50Ms, bare.SingleP50Ms)} | " +
                $"{row.CpuMicrosPerRequest:F1} | {row.PeakRssBytes / 1048576.0:F1} | {Ratio(row.PeakRssBytes, bare.PeakRssBytes)} |"));
        }
    }

    internal static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex RequestsTotal();

    [GeneratedRegex(@"(?:Socket errors: connect|read|write|timeout|Non-2xx or 3xx responses:)\s*(\d+)")]
    private static partial Regex Errors();

    [GeneratedRegex(@"VmHWM:\s+(\d+) kB")]
    private static partial Regex VmHwm();

    private sealed record Result(double RequestsPerSecond, double Requests, double P50Ms, double P99Ms);

    private sealed record Row(string Name, int BodyBytes, double RequestsPerSecond, double P50Ms, double P99Ms, double SingleP50Ms, double CpuMicrosPerRequest, long PeakRssBytes, double Ratio, Row? Twin = null);
}
