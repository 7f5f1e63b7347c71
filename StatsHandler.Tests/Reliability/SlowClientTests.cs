using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests.Reliability;

[Category("Reliability")]
[NonParallelizable]
public class SlowClientTests
{
    [Test]
    [CancelAfter(60_000)]
    public async Task Two_hundred_clients_trickling_a_byte_a_second_do_not_slow_a_normal_client()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        byte[] request = Encoding.ASCII.GetBytes($"GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1:{server.Url.Port}\r\nX-Slow: {new string('z', 64)}\r\n\r\n");
        var slow = new List<TcpClient>();
        long rssBefore = ProcessMemory.SettledResidentBytes();
        try
        {
            for (int i = 0; i < 200; i++)
            {
                var tcp = new TcpClient { NoDelay = true };
                await tcp.ConnectAsync(IPAddress.Loopback, server.Url.Port);
                slow.Add(tcp);
            }

            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(8));
            Task<int> trickle = TrickleAsync(slow, request, stop.Token);
            using HttpClient client = TestServers.Client(server);
            var latencies = new List<double>();
            using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            while (!stop.IsCancellationRequested && await pace.WaitForNextTickAsync(CancellationToken.None))
            {
                long start = Stopwatch.GetTimestamp();
                using HttpResponseMessage response = await client.GetAsync("/api/stats");
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                response.StatusCode.Should().Be(HttpStatusCode.OK);
            }

            int stillOpen = await trickle;
            long rssWithSlowClients = ProcessMemory.SettledResidentBytes();
            latencies.Sort();
            TestContext.Progress.WriteLine(
                $"slow clients: 200 trickling for 8 s ({stillOpen} still connected at the end: HttpListener has no header timeout); " +
                $"normal client {latencies.Count} requests, p50 {latencies[latencies.Count / 2]:F1} ms, max {latencies[^1]:F1} ms; " +
                $"RSS {ProcessMemory.Mb(rssBefore)} before, {ProcessMemory.Mb(rssWithSlowClients)} with them");
            latencies.Should().HaveCountGreaterThan(20);
            latencies[^1].Should().BeLessThan(1000, "a normal client is served in under a second every time");
        }
        finally
        {
            foreach (TcpClient tcp in slow)
            {
                tcp.Dispose();
            }
        }
    }

    private static async Task<int> TrickleAsync(List<TcpClient> clients, byte[] request, CancellationToken stop)
    {
        int offset = 0;
        var open = new HashSet<TcpClient>(clients);
        using var everySecond = new PeriodicTimer(TimeSpan.FromSeconds(1));
        do
        {
            foreach (TcpClient tcp in clients)
            {
                if (!open.Contains(tcp))
                {
                    continue;
                }

                try
                {
                    await tcp.GetStream().WriteAsync(request.AsMemory(offset % request.Length, 1), CancellationToken.None);
                }
                catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
                {
                    open.Remove(tcp);
                }
            }

            offset++;
        }
        while (await WaitAsync(everySecond, stop));

        return open.Count;
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stop)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stop);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
