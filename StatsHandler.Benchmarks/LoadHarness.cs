using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace StatsHandler.Benchmarks;

/// <summary>
/// <c>./build.sh load</c>: runs the demo's endpoints and a bare HttpListener serving a fixed body of the same size,
/// one after another on loopback, each in its own process under the same bounded load (wrk when installed, else a
/// built-in generator), and prints throughput, latency, CPU per request and peak RSS with each row's ratio to the
/// bare listener. About 90 seconds; it stops by itself.
/// </summary>
internal static partial class LoadHarness
{
    private const int Connections = 16;
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Run = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan LatencyRun = TimeSpan.FromSeconds(3);
    private const int Repeats = 3;

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
        using var budget = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        Console.WriteLine($"load: {Environment.ProcessorCount} CPUs, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, " +
            $"{System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}; generator: {(wrk is null ? "built-in (.NET HttpClient)" : "wrk")}; " +
            $"{Connections} connections, {Run.TotalSeconds:F0} s x {Repeats} (median), then 1 connection for {LatencyRun.TotalSeconds:F0} s");

        await MeasureIdleAsync(demo, budget.Token);
        var rows = new List<Row>();
        int statsSize = 0;
        int metricsSize = 0;
        foreach (string path in new[] { "/api/stats", "/metrics" })
        {
            // GC events are measured apart (the rows below): their cost is the runtime's event dispatch, not the server's.
            Row? row = await MeasureAsync($"StatsServer {path}", ["exec", demo, "--no-churn", "--no-gc-events"], "--addr", path, wrk, budget.Token);
            if (row is null)
            {
                Console.WriteLine($"  (the demo does not serve {path}; row skipped)");
                continue;
            }

            rows.Add(row);
            if (path == "/api/stats")
            {
                statsSize = row.BodyBytes;
            }
            else
            {
                metricsSize = row.BodyBytes;
            }
        }

        foreach (int size in new[] { statsSize, metricsSize }.Where(s => s > 0).Distinct())
        {
            Row? bare = await MeasureAsync($"bare HttpListener, {size} B", ["exec", self, "bare", "--size", size.ToString(CultureInfo.InvariantCulture)], "--addr", "/", wrk, budget.Token);
            if (bare is not null)
            {
                rows.Add(bare);
            }
        }

        foreach (string path in new[] { "/api/stats", "/metrics" })
        {
            Row? row = await MeasureAsync($"StatsServer {path}, GC events on", ["exec", demo, "--no-churn"], "--addr", path, wrk, budget.Token);
            if (row is not null)
            {
                rows.Add(row);
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
        string addr = $"127.0.0.1:{FreePort()}";
        using Process process = StartDotnet(["exec", demo, "--no-churn", "--addr", addr]);
        try
        {
            using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            if (await WaitForAsync(probe, new Uri($"http://{addr}/api/stats"), budget) is null)
            {
                Console.WriteLine("  idle: the demo did not answer; skipped");
                return;
            }

            using var settle = new PeriodicTimer(TimeSpan.FromSeconds(1));
            await settle.WaitForNextTickAsync(budget);
            (double cpuBefore, _) = ReadProcess(process.Id);
            int threadsBefore = ReadThreads(process.Id);
            using var idle = new PeriodicTimer(TimeSpan.FromSeconds(10));
            await idle.WaitForNextTickAsync(budget);
            (double cpuAfter, _) = ReadProcess(process.Id);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  idle demo (no background work): {(cpuAfter - cpuBefore) * 1000:F0} ms CPU over 10 s, threads {threadsBefore} -> {ReadThreads(process.Id)}"));
        }
        finally
        {
            await StopAsync(process);
        }
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

    private static async Task<Row?> MeasureAsync(string name, string[] command, string addrFlag, string path, string? wrk, CancellationToken budget)
    {
        int port = FreePort();
        string addr = $"127.0.0.1:{port}";
        using Process process = StartDotnet([.. command, addrFlag, addr]);
        try
        {
            var url = new Uri($"http://{addr}{path}");
            using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            byte[]? body = await WaitForAsync(probe, url, budget);
            if (body is null)
            {
                return null;
            }

            await DriveAsync(wrk, url, Connections, WarmUp, budget);
            (double cpuBefore, _) = ReadProcess(process.Id);
            var throughput = new List<Result>();
            for (int i = 0; i < Repeats; i++)
            {
                throughput.Add(await DriveAsync(wrk, url, Connections, Run, budget));
            }

            (double cpuAfter, long peakRss) = ReadProcess(process.Id);
            Result single = await DriveAsync(wrk, url, 1, LatencyRun, budget);
            Result median = throughput.OrderBy(r => r.RequestsPerSecond).ElementAt(Repeats / 2);
            double requests = throughput.Sum(r => r.Requests);
            var row = new Row(name, body.Length, median.RequestsPerSecond, median.P50Ms, median.P99Ms, single.P50Ms,
                requests > 0 ? (cpuAfter - cpuBefore) / requests * 1e6 : 0, peakRss);
            Console.WriteLine($"  {name}: {median.RequestsPerSecond:F0} req/s (runs {string.Join(", ", throughput.Select(t => t.RequestsPerSecond.ToString("F0", CultureInfo.InvariantCulture)))}), " +
                $"1-client p50 {single.P50Ms:F3} ms");
            return row;
        }
        finally
        {
            await StopAsync(process);
        }
    }

    private static async Task<byte[]?> WaitForAsync(HttpClient client, Uri url, CancellationToken budget)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        for (int i = 0; i < 150 && await timer.WaitForNextTickAsync(budget); i++)
        {
            try
            {
                using HttpResponseMessage response = await client.GetAsync(url, budget);
                return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsByteArrayAsync(budget) : null;
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
        Console.WriteLine("| server | body B | req/s (16 conn) | vs bare | p50 ms | p99 ms | 1-conn p50 ms | vs bare | CPU us/req | peak RSS MB | vs bare |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (Row row in rows)
        {
            // The bare listener serving the same number of bytes, or the nearest size measured.
            Row? bare = rows.Where(r => r.Name.StartsWith("bare", StringComparison.Ordinal))
                .OrderBy(r => Math.Abs(r.BodyBytes - row.BodyBytes)).FirstOrDefault();
            string Ratio(double mine, double? theirs) => theirs is > 0 ? (mine / theirs.Value).ToString("F2", CultureInfo.InvariantCulture) : "-";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row.Name} | {row.BodyBytes} | {row.RequestsPerSecond:F0} | {Ratio(row.RequestsPerSecond, bare?.RequestsPerSecond)} | " +
                $"{row.P50Ms:F3} | {row.P99Ms:F3} | {row.SingleP50Ms:F3} | {Ratio(row.SingleP50Ms, bare?.SingleP50Ms)} | " +
                $"{row.CpuMicrosPerRequest:F1} | {row.PeakRssBytes / 1048576.0:F1} | {Ratio(row.PeakRssBytes, bare?.PeakRssBytes)} |"));
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

    private sealed record Row(string Name, int BodyBytes, double RequestsPerSecond, double P50Ms, double P99Ms, double SingleP50Ms, double CpuMicrosPerRequest, long PeakRssBytes);
}
