using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests.Reliability;

[Category("Reliability")]
[NonParallelizable]
public class LoadTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Twenty_thousand_requests_over_32_kept_alive_connections_all_succeed_without_growing_rss()
    {
        var errors = new ConcurrentQueue<Exception>();
        using var unobserved = new UnobservedExceptions();
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats").OnError(errors.Enqueue));
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 32, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) };
        using var client = new HttpClient(handler) { BaseAddress = server.Url, Timeout = TestServers.Bound };

        // Warm up until the thread pool, connection pool and GC budgets have settled (RSS is flat from then on).
        LoadResult warmUp = await DriveAsync(client, connections: 32, total: 20_000);
        long rssAfterWarmUp = ProcessMemory.SettledResidentBytes();
        long heapAfterWarmUp = GC.GetTotalMemory(forceFullCollection: true);
        LoadResult run = await DriveAsync(client, connections: 32, total: 20_000);
        long rssAfterRun = ProcessMemory.SettledResidentBytes();
        long heapAfterRun = GC.GetTotalMemory(forceFullCollection: true);

        double growth = (double)(rssAfterRun - rssAfterWarmUp) / rssAfterWarmUp;
        TestContext.Progress.WriteLine(
            $"load: {run.Succeeded}/{run.Total} OK, {run.Failed} failed, {run.RequestsPerSecond:F0} req/s, " +
            $"p50 {run.P50.TotalMilliseconds:F2} ms, p99 {run.P99.TotalMilliseconds:F2} ms; " +
            $"RSS after warm-up {ProcessMemory.Mb(rssAfterWarmUp)}, after run {ProcessMemory.Mb(rssAfterRun)} ({growth:P1}); " +
            $"live managed heap {ProcessMemory.Mb(heapAfterWarmUp)} -> {ProcessMemory.Mb(heapAfterRun)}");
        warmUp.Failed.Should().Be(0);
        run.Failed.Should().Be(0, string.Join("; ", run.FailureSamples));
        run.Succeeded.Should().Be(20_000);
        growth.Should().BeLessThan(0.20, "a leak shows as RSS growth between warm-up and the end of the run");
        (heapAfterRun - heapAfterWarmUp).Should().BeLessThan(
            Math.Max(2L * 1024 * 1024, heapAfterWarmUp / 5), "what 20,000 requests leave reachable is a leak, whatever RSS did");
        errors.Should().BeEmpty();
        unobserved.Collect().Should().BeEmpty();
    }

    /// <summary>
    /// Sends <paramref name="total"/> GETs over <paramref name="connections"/> concurrent workers until done or
    /// <paramref name="stop"/>; <paramref name="running"/>, when given, completes after the 20th success, so a test can
    /// await the load being under way rather than guess.
    /// </summary>
    internal static async Task<LoadResult> DriveAsync(
        HttpClient client,
        int connections,
        int total,
        string path = "/api/stats",
        TaskCompletionSource? running = null,
        CancellationToken stop = default)
    {
        int succeeded = 0;
        int next = -1;
        int failed = 0;
        var samples = new ConcurrentQueue<string>();
        var latencies = new long[total];
        var clock = Stopwatch.StartNew();
        var workers = new Task[connections];
        for (int w = 0; w < connections; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < total && !stop.IsCancellationRequested)
                {
                    long start = Stopwatch.GetTimestamp();
                    try
                    {
                        using HttpResponseMessage response = await client.GetAsync(path, HttpCompletionOption.ResponseContentRead, stop);
                        if (response.StatusCode != HttpStatusCode.OK)
                        {
                            Interlocked.Increment(ref failed);
                            samples.Enqueue($"status {(int)response.StatusCode}");
                        }
                        else if (Interlocked.Increment(ref succeeded) == 20)
                        {
                            running?.TrySetResult();
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or System.Net.Sockets.SocketException)
                    {
                        // A connection the server resets as it stops can surface from HttpClient as a bare SocketException
                        // (its connect reads RemoteEndPoint of a socket already gone): a refused request all the same.
                        Interlocked.Increment(ref failed);
                        if (samples.Count < 5)
                        {
                            samples.Enqueue(e.GetType().Name + ": " + e.Message);
                        }
                    }

                    latencies[i] = Stopwatch.GetTimestamp() - start;
                }
            }, CancellationToken.None);
        }

        await Task.WhenAll(workers);
        clock.Stop();
        int done = Math.Min(total, next);
        long[] measured = latencies[..done];
        Array.Sort(measured);
        return new LoadResult(
            done,
            done - failed,
            failed,
            done / clock.Elapsed.TotalSeconds,
            Percentile(measured, 0.50),
            Percentile(measured, 0.99),
            [.. samples]);
    }

    private static TimeSpan Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(0, sorted[(int)Math.Min(sorted.Length - 1, sorted.Length * p)]);

    internal sealed record LoadResult(int Total, int Succeeded, int Failed, double RequestsPerSecond, TimeSpan P50, TimeSpan P99, string[] FailureSamples);
}
