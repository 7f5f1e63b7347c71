using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests.Reliability;

[Category("Reliability")]
[NonParallelizable]
public class FaultTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Faulty_handlers_under_load_never_stop_the_server()
    {
        var errors = new ConcurrentQueue<Exception>();
        using var unobserved = new UnobservedExceptions();
        await using StatsServer server = await TestServers.StartAsync(s =>
        {
            s.Limits.RequestTimeout = TimeSpan.FromMilliseconds(100);
            s.Limits.MaxResponseBytes = 64 * 1024;
            s.Handle("/api/stats");
            s.HandleFunc("/throws", (_, _) => throw new InvalidOperationException("boom"));
            s.HandleFunc("/hangs", (_, ct) => Task.Delay(Timeout.Infinite, ct));
            s.HandleFunc("/too-much", (c, ct) => StatsResponse.WriteAsync(c, 200, "application/octet-stream", new byte[1024 * 1024], ct));
            s.OnError(errors.Enqueue);
        });
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 16 };
        using var client = new HttpClient(handler) { BaseAddress = server.Url, Timeout = TestServers.Bound };
        string[] paths = ["/throws", "/hangs", "/too-much", "/api/stats"];
        var statuses = new ConcurrentDictionary<string, ConcurrentDictionary<int, int>>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 800), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            string path = paths[i % paths.Length];
            using HttpResponseMessage response = await client.GetAsync(path, ct);
            statuses.GetOrAdd(path, _ => new()).AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
        });

        TestContext.Progress.WriteLine("faults under load: " + string.Join("; ", statuses.OrderBy(s => s.Key).Select(s =>
            $"{s.Key} {string.Join(",", s.Value.Select(v => $"{v.Key}x{v.Value}"))}")) + $"; errors reported {errors.Count}");
        statuses["/throws"].Keys.Should().Equal(500);
        statuses["/hangs"].Keys.Should().Equal(503);
        statuses["/too-much"].Keys.Should().Equal(500);
        statuses["/api/stats"].Keys.Should().Equal(200);
        errors.Should().HaveCount(600, "each faulty request is reported once");
        errors.Count(e => e.InnerException is TimeoutException).Should().Be(200);
        unobserved.Collect().Should().BeEmpty();
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Clients_that_disconnect_mid_response_cause_no_error_and_no_unobserved_exception()
    {
        var errors = new ConcurrentQueue<Exception>();
        using var unobserved = new UnobservedExceptions();
        byte[] big = new byte[4 * 1024 * 1024];
        await using StatsServer server = await TestServers.StartAsync(s =>
        {
            s.Handle("/api/stats");
            s.HandleFunc("/big", (c, ct) => StatsResponse.WriteAsync(c, 200, "application/octet-stream", big, ct));
            s.OnError(errors.Enqueue);
        });
        byte[] request = Encoding.ASCII.GetBytes($"GET /big HTTP/1.1\r\nHost: 127.0.0.1:{server.Url.Port}\r\n\r\n");

        int readSome = 0;
        for (int i = 0; i < 50; i++)
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, server.Url.Port);
            NetworkStream stream = tcp.GetStream();
            await stream.WriteAsync(request);
            var buffer = new byte[8192];
            readSome += await stream.ReadAsync(buffer) > 0 ? 1 : 0;

            // Reset instead of a graceful close, mid-body.
            tcp.Client.LingerState = new LingerOption(true, 0);
        }

        using HttpClient client = TestServers.Client(server);
        (await client.GetAsync("/api/stats")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.GetByteArrayAsync("/big")).Should().HaveCount(big.Length);
        TestContext.Progress.WriteLine($"disconnects: 50 clients reset mid-body ({readSome} had read part of it); errors reported {errors.Count}");
        readSome.Should().Be(50);
        errors.Should().BeEmpty("a client going away is not a server error");
        unobserved.Collect().Should().BeEmpty();
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Stop_during_load_returns_within_the_drain_timeout_and_frees_the_port()
    {
        using var unobserved = new UnobservedExceptions();
        StatsServer server = await TestServers.StartAsync(s =>
        {
            s.Limits.DrainTimeout = TimeSpan.FromSeconds(2);
            s.Handle("/api/stats");
        });
        int port = server.Url.Port;
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 32 };
        using var client = new HttpClient(handler) { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(10) };
        using var stopLoad = new CancellationTokenSource();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<LoadTests.LoadResult> load = LoadTests.DriveAsync(client, connections: 32, total: 1_000_000, running: running, stop: stopLoad.Token);
        await running.Task.WaitAsync(TestServers.Bound);

        var watch = Stopwatch.StartNew();
        await server.StopAsync().WaitAsync(TestServers.Bound);
        watch.Stop();
        stopLoad.Cancel();
        LoadTests.LoadResult result = await load.WaitAsync(TestServers.Bound);

        TestContext.Progress.WriteLine(
            $"stop under load: returned in {watch.ElapsedMilliseconds} ms (drain timeout 2000 ms); load had {result.Succeeded} OK, {result.Failed} refused or cut");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2) + TimeSpan.FromSeconds(1));
        result.Succeeded.Should().BeGreaterThanOrEqualTo(20);
        using var rebind = new TcpListener(IPAddress.Loopback, port);
        rebind.Invoking(l => l.Start()).Should().NotThrow("the port can be bound again at once");
        rebind.Stop();
        await using StatsServer again = await TestServers.StartAsync(s => s.Handle("/api/stats"), $"127.0.0.1:{port}");
        using HttpClient fresh = TestServers.Client(again);
        (await fresh.GetAsync("/api/stats")).StatusCode.Should().Be(HttpStatusCode.OK, "a new server serves on the same port");
        await server.DisposeAsync();
        unobserved.Collect().Should().BeEmpty();
        TestContext.Progress.WriteLine($"stop under load: {unobserved.RuntimeOwned} unobserved exception(s) inside HttpListener's own write and close callbacks");
    }

    [Test]
    public async Task A_second_server_on_a_taken_port_fails_clearly_and_the_first_keeps_serving()
    {
        await using StatsServer first = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        using var second = new StatsServer($"localhost:{first.Url.Port}").Handle("/api/stats");

        Func<Task> start = () => second.StartAsync();

        (await start.Should().ThrowAsync<HttpListenerException>()).Which.Message.Should().Contain($"port {first.Url.Port}");
        using HttpClient client = TestServers.Client(first);
        (await client.GetAsync("/api/stats")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Test]
    public async Task No_thread_outlives_a_stopped_server()
    {
        int threadsBefore = Process.GetCurrentProcess().Threads.Count;
        for (int i = 0; i < 20; i++)
        {
            StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
            using (HttpClient client = TestServers.Client(server))
            {
                (await client.GetAsync("/api/stats")).StatusCode.Should().Be(HttpStatusCode.OK);
            }

            await server.DisposeAsync();
        }

        int threadsAfter = Process.GetCurrentProcess().Threads.Count;
        TestContext.Progress.WriteLine($"threads: {threadsBefore} before 20 start/stop cycles, {threadsAfter} after");
        (threadsAfter - threadsBefore).Should().BeLessThan(10, "servers own no threads or timers of their own once stopped");
    }
}
