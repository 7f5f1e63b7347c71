using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

public class StatsServerLimitsTests
{
    [Test]
    public void Defaults_are_the_documented_ones()
    {
        var limits = new StatsServerLimits();

        limits.MaxUrlLength.Should().Be(8192);
        limits.MaxConcurrentRequests.Should().Be(100);
        limits.RequestTimeout.Should().Be(TimeSpan.FromSeconds(10));
        limits.MaxResponseBytes.Should().Be(16 * 1024 * 1024);
        limits.DrainTimeout.Should().Be(TimeSpan.FromSeconds(5));
    }

    [Test]
    public void Out_of_range_values_are_rejected_naming_the_limit_and_the_value()
    {
        var limits = new StatsServerLimits();

        limits.Invoking(l => l.MaxUrlLength = 10).Should().Throw<ArgumentOutOfRangeException>()
            .WithMessage("MaxUrlLength 10 must be between 64 and 1048576, for example 8192.*");
        limits.Invoking(l => l.MaxConcurrentRequests = 0).Should().Throw<ArgumentOutOfRangeException>().WithMessage("MaxConcurrentRequests 0 *");
        limits.Invoking(l => l.RequestTimeout = TimeSpan.Zero).Should().Throw<ArgumentOutOfRangeException>().WithMessage("RequestTimeout 00:00:00 *");
        limits.Invoking(l => l.MaxResponseBytes = 1).Should().Throw<ArgumentOutOfRangeException>().WithMessage("MaxResponseBytes 1 *");
        limits.Invoking(l => l.DrainTimeout = TimeSpan.FromMinutes(-1)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Test]
    public async Task A_request_target_over_the_limit_gets_414()
    {
        await using StatsServer server = await TestServers.StartAsync(s =>
        {
            s.Limits.MaxUrlLength = 100;
            s.Handle("/api/stats");
        });

        RawResponse tooLong = await TestServers.SendRawAsync(
            server.Url, $"GET /api/stats?x={new string('a', 200)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        RawResponse fits = await TestServers.SendRawAsync(
            server.Url, $"GET /api/stats?x={new string('a', 50)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");

        tooLong.Status.Should().Be(414);
        JsonDocument.Parse(tooLong.Body).RootElement.GetProperty("error").GetString().Should().Be("request target longer than 100 characters");
        fits.Status.Should().Be(200);
    }

    [Test]
    public async Task A_request_with_a_body_gets_413_and_the_connection_closes()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));

        RawResponse withLength = await TestServers.SendRawAsync(
            server.Url, "GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello");
        RawResponse chunked = await TestServers.SendRawAsync(
            server.Url, "GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");

        withLength.Status.Should().Be(413);
        chunked.Status.Should().Be(413);
        withLength.Headers["Connection"].Should().Be("close");
    }

    [Test]
    public async Task Requests_beyond_the_concurrency_cap_get_503_with_retry_after_at_once()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int entered = 0;
        var allIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using StatsServer server = await TestServers.StartAsync(s =>
        {
            s.Limits.MaxConcurrentRequests = 2;
            s.HandleFunc("/hold", async (c, ct) =>
            {
                if (Interlocked.Increment(ref entered) == 2)
                {
                    allIn.SetResult();
                }

                await release.Task.WaitAsync(ct);
                await StatsResponse.WriteTextAsync(c, 200, "done", ct);
            });
        });
        using HttpClient client = TestServers.Client(server);

        Task<string> first = client.GetStringAsync("/hold");
        Task<string> second = client.GetStringAsync("/hold");
        await allIn.Task.WaitAsync(TestServers.Bound);
        using HttpResponseMessage third = await client.GetAsync("/hold");
        release.SetResult();

        third.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        third.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(1));
        (await first).Should().Be("done");
        (await second).Should().Be("done");
        entered.Should().Be(2, "the refused request never reached the handler");
    }

    [Test]
    public async Task A_handler_past_its_time_limit_has_its_token_cancelled_and_the_client_gets_503()
    {
        var errors = new ConcurrentQueue<Exception>();
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using StatsServer server = await TestServers.StartAsync(s =>
        {
            s.Limits.RequestTimeout = TimeSpan.FromMilliseconds(200);
            s.HandleFunc("/hang", async (_, ct) =>
            {
                using CancellationTokenRegistration r = ct.Register(() => cancelled.TrySetResult());
                await Task.Delay(Timeout.Infinite, ct);
            });
            s.HandleFunc("/ignore", (_, _) => new TaskCompletionSource().Task);
            s.Handle("/api/stats");
            s.OnError(errors.Enqueue);
        });
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage hung = await client.GetAsync("/hang");
        using HttpResponseMessage ignoring = await client.GetAsync("/ignore");

        hung.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        JsonDocument.Parse(await hung.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString().Should().Be("request timed out");
        ignoring.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "a handler that ignores its token is abandoned");
        await cancelled.Task.WaitAsync(TestServers.Bound);
        (await client.GetAsync("/api/stats")).StatusCode.Should().Be(HttpStatusCode.OK);
        errors.Should().HaveCount(2).And.AllSatisfy(e => e.InnerException.Should().BeOfType<TimeoutException>());
    }

    [Test]
    public async Task A_response_over_the_size_cap_gets_500_before_any_byte_is_sent()
    {
        var errors = new ConcurrentQueue<Exception>();
        await using StatsServer server = await TestServers.StartAsync(s =>
        {
            s.Limits.MaxResponseBytes = 4096;
            s.HandleFunc("/big", (c, ct) => StatsResponse.WriteAsync(c, 200, "application/octet-stream", new byte[4097], ct));
            s.HandleFunc("/fits", (c, ct) => StatsResponse.WriteAsync(c, 200, "application/octet-stream", new byte[4096], ct));
            s.OnError(errors.Enqueue);
        });
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage big = await client.GetAsync("/big");
        using HttpResponseMessage fits = await client.GetAsync("/fits");

        big.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await big.Content.ReadAsStringAsync()).Should().Contain("internal server error");
        fits.StatusCode.Should().Be(HttpStatusCode.OK);
        (await fits.Content.ReadAsByteArrayAsync()).Should().HaveCount(4096);
        errors.Should().ContainSingle().Which.InnerException!.Message.Should().Contain("4097 bytes exceeds the server's limit of 4096");
    }

    [Test]
    public async Task Stop_refuses_new_requests_at_once_while_an_in_flight_request_finishes()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats")
            .HandleFunc("/slow", async (c, ct) =>
            {
                entered.TrySetResult();
                await release.Task.WaitAsync(ct);
                await StatsResponse.WriteTextAsync(c, 200, "finished", ct);
            }));
        using HttpClient client = TestServers.Client(server);
        Task<string> inFlight = client.GetStringAsync("/slow");
        await entered.Task.WaitAsync(TestServers.Bound);

        Task stopping = server.StopAsync();
        RawResponse newcomer = await TestServers.SendRawAsync(
            server.Url, "GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");

        newcomer.Status.Should().Be(503, "a request arriving after the stop began is refused");
        newcomer.Headers["Connection"].Should().Be("close");
        JsonDocument.Parse(newcomer.Body).RootElement.GetProperty("error").GetString().Should().Be("server is stopping");
        stopping.IsCompleted.Should().BeFalse();
        release.SetResult();
        (await inFlight.WaitAsync(TestServers.Bound)).Should().Be("finished");
        await stopping.WaitAsync(TestServers.Bound);
        server.IsListening.Should().BeFalse();
    }

    [Test]
    public async Task Stop_aborts_what_is_left_after_the_drain_timeout_and_returns_within_it()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        StatsServer server = await TestServers.StartAsync(s =>
        {
            s.Limits.DrainTimeout = TimeSpan.FromMilliseconds(300);
            s.HandleFunc("/forever", async (_, ct) =>
            {
                entered.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            });
        });
        using HttpClient client = TestServers.Client(server);
        Task<HttpResponseMessage> stuck = client.GetAsync("/forever");
        await entered.Task.WaitAsync(TestServers.Bound);
        int port = server.Url.Port;

        var watch = System.Diagnostics.Stopwatch.StartNew();
        await server.StopAsync().WaitAsync(TestServers.Bound);
        watch.Stop();

        TestContext.Progress.WriteLine($"stop with a stuck request took {watch.ElapsedMilliseconds} ms (drain timeout 300 ms)");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
        Func<Task> read = async () => (await stuck).EnsureSuccessStatusCode();
        await read.Should().ThrowAsync<Exception>("the stuck request was aborted");
        using var rebind = new System.Net.Sockets.TcpListener(IPAddress.Loopback, port);
        rebind.Invoking(l => l.Start()).Should().NotThrow();
        await server.DisposeAsync();
    }
}
