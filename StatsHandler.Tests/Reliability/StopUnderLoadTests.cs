using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests.Reliability;

/// <summary>
/// The way a host dies in production: a stop while load, bad clients and slow requests all hit the server at once,
/// repeated thirty times in one run.
/// </summary>
[Category("Reliability")]
[NonParallelizable]
public class StopUnderLoadTests
{
    private const int Cycles = 30;
    private static readonly TimeSpan Drain = TimeSpan.FromMilliseconds(600);

    [Test]
    [CancelAfter(300_000)]
    public async Task Thirty_stops_under_load_and_bad_clients_each_return_in_time_and_free_the_port()
    {
        using var unobserved = new UnobservedExceptions();
        var errors = new ConcurrentQueue<Exception>();
        var stopTimes = new List<double>();
        var lines = new List<string>();
        for (int cycle = 1; cycle <= Cycles; cycle++)
        {
            // Each cycle gets a fresh port and proves, by binding it itself, that the stop freed it. (Starting the next
            // HttpListener on the same port is not used as the proof: the managed listener's endpoint accepts before it
            // is initialised, so a client connecting in that instant fails the start; ListenerBinder explains that.)
            var slowStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            StatsServer server = await TestServers.StartAsync(
                s =>
                {
                    s.Limits.DrainTimeout = Drain;
                    s.Handle("/api/stats")
                        .HandlePrometheus("/metrics")
                        .HandleFunc("/slow", async (context, ct) =>
                        {
                            slowStarted.TrySetResult();
                            await Task.Delay(Timeout.Infinite, ct);
                        })
                        .OnError(errors.Enqueue);
                });
            int port = server.Url.Port;

            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 16 };
            using var client = new HttpClient(handler) { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(10) };
            using var stopTraffic = new CancellationTokenSource();
            var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Task<LoadTests.LoadResult> load = LoadTests.DriveAsync(client, connections: 16, total: 1_000_000, stop: stopTraffic.Token, running: running);
            Task<ConcurrentDictionary<string, int>> bad = BadClients.RunAsync(port, malformed: 300, slow: 10, stopTraffic.Token);
            using var slowClient = new HttpClient { BaseAddress = server.Url, Timeout = TestServers.Bound };
            Task<HttpResponseMessage> slow = slowClient.GetAsync("/slow", CancellationToken.None);
            await running.Task.WaitAsync(TestServers.Bound);
            await slowStarted.Task.WaitAsync(TestServers.Bound);

            var watch = Stopwatch.StartNew();
            await server.StopAsync().WaitAsync(TestServers.Bound);
            watch.Stop();
            stopTraffic.Cancel();
            LoadTests.LoadResult result = await load.WaitAsync(TestServers.Bound);
            ConcurrentDictionary<string, int> outcomes = await bad.WaitAsync(TestServers.Bound);
            using HttpResponseMessage slowAnswer = await slow.WaitAsync(TestServers.Bound);
            await server.DisposeAsync();

            using (var probe = new TcpListener(IPAddress.Loopback, port))
            {
                probe.Invoking(l => l.Start()).Should().NotThrow($"cycle {cycle}: the port is free once the stop returns");
                probe.Stop();
            }

            stopTimes.Add(watch.Elapsed.TotalMilliseconds);
            lines.Add($"#{cycle} port {port}: stop {watch.Elapsed.TotalMilliseconds:F0} ms, rebind ok, load {result.Succeeded} OK, " +
                $"bad clients {string.Join(" ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}={o.Value}"))}, slow request {(int)slowAnswer.StatusCode}");
            watch.Elapsed.Should().BeLessThan(Drain + TimeSpan.FromSeconds(1), $"cycle {cycle}: a stop returns within the drain timeout and a second");
            slowAnswer.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, $"cycle {cycle}: a request still running when the drain ends gets 503");
            (await slowAnswer.Content.ReadAsStringAsync()).Should().Contain("server is stopping");
        }

        TestContext.Progress.WriteLine($"stop under load and bad clients, {Cycles} cycles:");
        foreach (string line in lines)
        {
            TestContext.Progress.WriteLine("  " + line);
        }

        stopTimes.Sort();
        TestContext.Progress.WriteLine(
            $"stop times: median {stopTimes[stopTimes.Count / 2]:F0} ms, max {stopTimes[^1]:F0} ms (drain timeout {Drain.TotalMilliseconds} ms); errors reported {errors.Count}");
        errors.Should().BeEmpty("load, bad clients and a stop are none of them server errors");
        unobserved.Collect().Should().BeEmpty();
        TestContext.Progress.WriteLine($"unobserved exceptions inside HttpListener's own write and close callbacks: {unobserved.RuntimeOwned}");
    }

    [Test]
    public async Task A_request_still_running_when_the_drain_ends_gets_503_server_is_stopping_even_if_it_ignores_its_token()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource();
        var errors = new ConcurrentQueue<Exception>();
        await using StatsServer server = await TestServers.StartAsync(s =>
        {
            s.Limits.DrainTimeout = TimeSpan.FromMilliseconds(200);
            s.HandleFunc("/stuck", (context, ct) =>
            {
                started.TrySetResult();
                return never.Task;
            }).OnError(errors.Enqueue);
        });
        using HttpClient client = TestServers.Client(server);
        Task<HttpResponseMessage> request = client.GetAsync("/stuck");
        await started.Task.WaitAsync(TestServers.Bound);

        await server.StopAsync().WaitAsync(TestServers.Bound);
        using HttpResponseMessage response = await request.WaitAsync(TestServers.Bound);

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        body.RootElement.GetProperty("error").GetString().Should().Be("server is stopping");
        body.RootElement.GetProperty("status").GetInt32().Should().Be(503);
        errors.Should().BeEmpty("a stop is not the handler's failure");
    }

    [Test]
    public async Task A_listener_that_throws_on_close_still_lets_the_stop_complete_reports_once_and_frees_the_port()
    {
        var errors = new ConcurrentQueue<Exception>();
        var server = new StatsServer("127.0.0.1:0")
        {
            // What the managed listener did under load: its close threw (ArgumentNullException from ProcessAccept).
            CloseListener = listener =>
            {
                listener.Close();
                throw new ArgumentNullException("e", "thrown from HttpEndPointListener.ProcessAccept");
            },
        };
        server.Handle("/api/stats").OnError(errors.Enqueue);
        await server.StartAsync();
        int port = server.Url.Port;
        Task serving = server.ListenAndServeAsync();

        await server.StopAsync().WaitAsync(TestServers.Bound);
        await serving.WaitAsync(TestServers.Bound);
        await server.DisposeAsync().AsTask().WaitAsync(TestServers.Bound);

        errors.Should().ContainSingle("the failure is reported once, not once per caller")
            .Which.InnerException.Should().BeOfType<ArgumentNullException>();
        errors.Single().Message.Should().Contain("the server has stopped all the same");
        await using StatsServer again = await TestServers.StartAsync(s => s.Handle("/api/stats"), $"127.0.0.1:{port}");
        using HttpClient client = TestServers.Client(again);
        (await client.GetAsync("/api/stats")).StatusCode.Should().Be(HttpStatusCode.OK, "the port is free for the next server");
    }

    [Test]
    [CancelAfter(240_000)]
    [Platform("Linux,MacOsX")]
    public async Task The_demo_exits_within_five_seconds_of_sigint_or_sigterm_under_load_every_time()
    {
        const int SigInt = 2;
        const int SigTerm = 15;
        var lines = new List<string>();
        for (int run = 1; run <= 6; run++)
        {
            int signal = run % 2 == 1 ? SigInt : SigTerm;
            await using DemoProcess demo = await DemoProcess.StartAsync();
            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 16 };
            using var client = new HttpClient(handler) { BaseAddress = demo.Url, Timeout = TimeSpan.FromSeconds(5) };
            using var stopTraffic = new CancellationTokenSource();
            var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Task<LoadTests.LoadResult> load = LoadTests.DriveAsync(client, connections: 16, total: 1_000_000, stop: stopTraffic.Token, running: running);
            Task bad = BadClients.RunAsync(demo.Url.Port, malformed: 100, slow: 10, stopTraffic.Token);
            await running.Task.WaitAsync(TestServers.Bound);

            var watch = Stopwatch.StartNew();
            demo.Signal(signal);
            bool exited = await demo.ExitsWithinAsync(TimeSpan.FromSeconds(5));
            watch.Stop();
            stopTraffic.Cancel();
            await Task.WhenAll(load, bad).WaitAsync(TestServers.Bound);

            lines.Add($"#{run} {(signal == SigInt ? "SIGINT" : "SIGTERM")}: exited {exited} in {watch.ElapsedMilliseconds} ms" + (exited ? $", code {demo.ExitCode}" : string.Empty));
            exited.Should().BeTrue($"run {run}: the demo exits within 5 s of the signal. Its output:\n{demo.Output}");
            demo.ExitCode.Should().Be(0);
            demo.Output.Should().Contain("Stopped.");
        }

        TestContext.Progress.WriteLine("demo under load, signalled: " + string.Join("; ", lines));
    }
}
