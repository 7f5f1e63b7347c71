using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

public class StatsServerTests
{
    [Test]
    public async Task Url_gives_the_real_port_once_started_when_port_0_was_asked()
    {
        var server = new StatsServer("127.0.0.1:0").Handle("/api/stats");
        await using (server)
        {
            Action early = () => _ = server.Url;
            early.Should().Throw<InvalidOperationException>().WithMessage("*after StartAsync*");

            await server.StartAsync();

            server.Url.Port.Should().BeInRange(1, 65535);
            server.Url.ToString().Should().Be($"http://127.0.0.1:{server.Url.Port}/");
            server.IsListening.Should().BeTrue();
        }
    }

    [TestCase("127.0.0.1:0")]
    [TestCase("localhost:0")]
    public async Task A_loopback_server_answers_both_loopback_names(string address)
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"), address);
        int port = server.Url.Port;

        foreach (string host in new[] { "localhost", "127.0.0.1" })
        {
            using var client = new HttpClient { Timeout = TestServers.Bound };
            using HttpResponseMessage response = await client.GetAsync(new Uri($"http://{host}:{port}/api/stats"));
            response.StatusCode.Should().Be(HttpStatusCode.OK, $"Host {host} must be served");
        }
    }

    [Test]
    public async Task A_pattern_matches_its_path_with_and_without_a_trailing_slash()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        using HttpClient client = TestServers.Client(server);

        (await client.GetAsync("/api/stats")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.GetAsync("/api/stats/")).StatusCode.Should().Be(HttpStatusCode.OK, "the Go original's README curls /api/stats/");
        (await client.GetAsync("/api/stats/x")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await client.GetAsync("/API/STATS")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task An_unknown_path_gets_404_with_a_json_body()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage response = await client.GetAsync("/nope?x=1");

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        body.RootElement.GetProperty("error").GetString().Should().Be("no handler for path /nope");
        body.RootElement.GetProperty("status").GetInt32().Should().Be(404);
    }

    [TestCase("POST")]
    [TestCase("PUT")]
    [TestCase("DELETE")]
    [TestCase("OPTIONS")]
    [TestCase("BREW")]
    public async Task Methods_other_than_get_and_head_get_405_with_allow(string method)
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));

        RawResponse response = await TestServers.SendRawAsync(
            server.Url, $"{method} /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

        response.Status.Should().Be(405);
        response.Headers["Allow"].Should().Be("GET, HEAD");
        response.Headers["Content-Type"].Should().Be("application/json; charset=utf-8");
        using JsonDocument body = JsonDocument.Parse(response.Body);
        body.RootElement.GetProperty("status").GetInt32().Should().Be(405);
    }

    [Test]
    public async Task Head_sends_the_get_headers_and_no_body()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats")
            .HandleFunc("/healthz", (c, ct) => StatsResponse.WriteTextAsync(c, 200, "ok\n", ct)));

        foreach (string path in new[] { "/api/stats", "/healthz" })
        {
            RawResponse get = await TestServers.SendRawAsync(server.Url, $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            RawResponse head = await TestServers.SendRawAsync(
                server.Url, $"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", head: true);

            head.Status.Should().Be(200);
            head.Headers["Content-Type"].Should().Be(get.Headers["Content-Type"]);
            head.Headers["Cache-Control"].Should().Be("no-store");
            int.Parse(head.Headers["Content-Length"], System.Globalization.CultureInfo.InvariantCulture)
                .Should().BeCloseTo(get.Body.Length, 64, "the snapshot differs a little between the two requests");
            head.TrailingBytes.Should().Be(0, $"HEAD {path} must not send a body");
        }
    }

    [Test]
    public async Task A_throwing_handler_gives_500_json_reports_the_error_and_the_server_keeps_serving()
    {
        var errors = new ConcurrentQueue<Exception>();
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats")
            .HandleFunc("/boom", (_, _) => throw new InvalidOperationException("secret detail"))
            .OnError(errors.Enqueue));
        using HttpClient client = TestServers.Client(server);

        for (int i = 0; i < 3; i++)
        {
            using HttpResponseMessage response = await client.GetAsync("/boom");
            response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
            string text = await response.Content.ReadAsStringAsync();
            using JsonDocument body = JsonDocument.Parse(text);
            body.RootElement.GetProperty("error").GetString().Should().Be("internal server error");
            text.Should().NotContain("secret detail").And.NotContain("   at ");
        }

        (await client.GetAsync("/api/stats")).StatusCode.Should().Be(HttpStatusCode.OK);
        errors.Should().HaveCount(3);
        StatsHandlerException error = errors.First().Should().BeOfType<StatsHandlerException>().Subject;
        error.Method.Should().Be("GET");
        error.Path.Should().Be("/boom");
        error.InnerException.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Be("secret detail");
    }

    [Test]
    public async Task A_handler_that_fails_after_sending_headers_aborts_that_response_only()
    {
        var errors = new ConcurrentQueue<Exception>();
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats")
            .HandleFunc("/half", async (c, ct) =>
            {
                c.Response.ContentLength64 = 100;
                await c.Response.OutputStream.WriteAsync("{\"partial\":"u8.ToArray(), ct);
                await c.Response.OutputStream.FlushAsync(ct);
                throw new InvalidOperationException("broke mid-body");
            })
            .OnError(errors.Enqueue));
        using HttpClient client = TestServers.Client(server);

        Func<Task> read = async () => await (await client.GetAsync("/half")).Content.ReadAsStringAsync();
        await read.Should().ThrowAsync<HttpRequestException>();

        (await client.GetAsync("/api/stats")).StatusCode.Should().Be(HttpStatusCode.OK);
        errors.Should().ContainSingle().Which.InnerException!.Message.Should().Be("broke mid-body");
    }

    [Test]
    public async Task An_error_callback_that_throws_does_not_stop_the_server()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s
            .HandleFunc("/boom", (_, _) => throw new InvalidOperationException("x"))
            .HandleFunc("/ok", (c, ct) => StatsResponse.WriteTextAsync(c, 200, "ok", ct))
            .OnError(_ => throw new InvalidOperationException("callback broke")));
        using HttpClient client = TestServers.Client(server);

        (await client.GetAsync("/boom")).StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await client.GetStringAsync("/ok")).Should().Be("ok");
    }

    [Test]
    public void Handle_returns_the_server_and_rejects_bad_and_repeated_patterns()
    {
        using var server = new StatsServer("127.0.0.1:0");

        server.Handle("/a").Should().BeSameAs(server);
        server.HandleFunc("/b", (_, _) => Task.CompletedTask).Should().BeSameAs(server);

        server.Invoking(s => s.Handle("/a")).Should().Throw<InvalidOperationException>().WithMessage("*'/a'*already mounted*");
        server.Invoking(s => s.Handle("/a/")).Should().Throw<InvalidOperationException>()
            .WithMessage("Pattern '/a/' is the same route as '/a', which is already mounted*trailing slash*");
        foreach (string bad in new[] { "", "api", "/a?b", "/a b", "//x", "/a#b" })
        {
            server.Invoking(s => s.Handle(bad)).Should().Throw<ArgumentException>().WithMessage($"Invalid pattern '{bad}'*");
        }

        server.Invoking(s => s.Handle(null!)).Should().Throw<ArgumentNullException>();
        server.Invoking(s => s.Handle("/c", (IStatsHandler)null!)).Should().Throw<ArgumentNullException>();
        server.Invoking(s => s.Handle("/c", (IStatsWriter)null!)).Should().Throw<ArgumentNullException>();
        server.Invoking(s => s.Handle("/c", (RuntimeStatsHandlerOptions)null!)).Should().Throw<ArgumentNullException>();
    }

    [Test]
    public async Task To_string_shows_the_real_port_once_started()
    {
        using var server = new StatsServer("127.0.0.1:0");
        server.ToString().Should().StartWith("StatsServer 127.0.0.1:0 ");

        await server.StartAsync();

        server.ToString().Should().StartWith($"StatsServer 127.0.0.1:{server.Url.Port} (");
        server.Url.Port.Should().NotBe(0);
    }

    [Test]
    public void Address_errors_suggest_only_forms_that_work_on_this_os()
    {
        Action bad = () => _ = new StatsServer("nonsense");

        string message = bad.Should().Throw<ArgumentException>().Which.Message;
        message.Should().Contain("'localhost:8080'");
        if (OperatingSystem.IsWindows())
        {
            message.Should().Contain("[::1]:8080");
        }
        else
        {
            message.Should().NotContain("[::1]", "HttpListener cannot bind the IPv6 loopback here");
        }
    }

    [Test]
    public async Task Handle_throws_once_the_server_has_started()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));

        server.Invoking(s => s.Handle("/other")).Should().Throw<InvalidOperationException>().WithMessage("*already started*");
        server.Invoking(s => s.HandleFunc("/f", (_, _) => Task.CompletedTask)).Should().Throw<InvalidOperationException>();
        server.Invoking(s => s.Limits.DrainTimeout = TimeSpan.FromSeconds(1)).Should().Throw<InvalidOperationException>();
    }

    [Test]
    public async Task A_taken_port_fails_start_with_a_message_naming_the_port()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        int port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        using var server = new StatsServer($"127.0.0.1:{port}").Handle("/api/stats");

        Func<Task> start = () => server.StartAsync();

        (await start.Should().ThrowAsync<HttpListenerException>())
            .Which.Message.Should().Contain($"port {port} is already in use");
        server.IsListening.Should().BeFalse();
    }

    [Test]
    public async Task Two_servers_on_one_port_in_one_process_fail_with_the_port_named()
    {
        await using StatsServer first = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        int port = first.Url.Port;
        using var second = new StatsServer($"127.0.0.1:{port}").Handle("/api/stats");

        Func<Task> start = () => second.StartAsync();

        (await start.Should().ThrowAsync<HttpListenerException>()).Which.Message.Should().Contain($"port {port}");
        using HttpClient client = TestServers.Client(first);
        (await client.GetAsync("/api/stats")).StatusCode.Should().Be(HttpStatusCode.OK, "the first server is untouched");
    }

    [Test]
    public async Task Two_servers_in_one_process_are_independent()
    {
        await using StatsServer a = await TestServers.StartAsync(s => s.Handle("/a"));
        await using StatsServer b = await TestServers.StartAsync(s => s.Handle("/b"));
        using HttpClient ca = TestServers.Client(a);
        using HttpClient cb = TestServers.Client(b);

        (await ca.GetAsync("/a")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await ca.GetAsync("/b")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await cb.GetAsync("/b")).StatusCode.Should().Be(HttpStatusCode.OK);

        await a.StopAsync();

        (await cb.GetAsync("/b")).StatusCode.Should().Be(HttpStatusCode.OK, "stopping one server leaves the other serving");
    }

    [Test]
    public async Task Listen_and_serve_completes_when_its_token_is_cancelled_and_frees_the_port()
    {
        var server = new StatsServer("127.0.0.1:0").Handle("/api/stats");
        await using (server)
        {
            using var cts = new CancellationTokenSource();
            Task serving = server.ListenAndServeAsync(cts.Token);
            await server.Invoking(s => s.StartAsync()).Should().ThrowAsync<InvalidOperationException>();
            int port = server.Url.Port;
            using HttpClient client = TestServers.Client(server);
            (await client.GetAsync("/api/stats")).StatusCode.Should().Be(HttpStatusCode.OK);

            cts.Cancel();

            await serving.WaitAsync(TestServers.Bound);
            server.IsListening.Should().BeFalse();
            using var rebind = new TcpListener(IPAddress.Loopback, port);
            rebind.Invoking(l => l.Start()).Should().NotThrow("the port is free once the server has stopped");
        }
    }

    [Test]
    public async Task Listen_and_serve_completes_when_the_server_is_stopped()
    {
        await using var server = new StatsServer("127.0.0.1:0").Handle("/api/stats");
        Task serving = server.ListenAndServeAsync();
        using HttpClient client = new() { Timeout = TestServers.Bound };
        (await client.GetAsync(new Uri(server.Url, "api/stats"))).StatusCode.Should().Be(HttpStatusCode.OK);

        await server.StopAsync().WaitAsync(TestServers.Bound);

        await serving.WaitAsync(TestServers.Bound);
    }

    [Test]
    public async Task Start_after_stop_throws_telling_to_create_a_new_server()
    {
        StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        await server.StopAsync();

        await server.Invoking(s => s.StartAsync()).Should().ThrowAsync<InvalidOperationException>()
            .WithMessage("*has been stopped*Create a new StatsServer*");
        await server.DisposeAsync();
    }

    [Test]
    public async Task Dispose_is_idempotent_and_then_the_server_refuses_use()
    {
        StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));

        server.Dispose();
        server.Dispose();
        await server.DisposeAsync();
        await server.StopAsync().WaitAsync(TestServers.Bound);

        server.Invoking(s => s.Handle("/x")).Should().Throw<ObjectDisposedException>();
        await server.Invoking(s => s.StartAsync()).Should().ThrowAsync<ObjectDisposedException>();
        server.IsListening.Should().BeFalse();
    }

    [Test]
    public async Task Stop_lets_an_in_flight_request_finish()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using StatsServer server = await TestServers.StartAsync(s => s.HandleFunc("/slow", async (c, ct) =>
        {
            entered.SetResult();
            await release.Task;
            await StatsResponse.WriteTextAsync(c, 200, "finished", ct);
        }));
        using HttpClient client = TestServers.Client(server);

        Task<string> inFlight = client.GetStringAsync("/slow");
        await entered.Task.WaitAsync(TestServers.Bound);
        Task stopping = server.StopAsync();
        stopping.IsCompleted.Should().BeFalse("the stop waits for the in-flight request");
        release.SetResult();

        (await inFlight.WaitAsync(TestServers.Bound)).Should().Be("finished");
        await stopping.WaitAsync(TestServers.Bound);
    }

    [Test]
    public void Ipv6_loopback_is_refused_where_http_listener_cannot_bind_it()
    {
        if (OperatingSystem.IsWindows())
        {
            using var server = new StatsServer("[::1]:0");
            server.Should().NotBeNull();
            return;
        }

        Action create = () => _ = new StatsServer("[::1]:8080");

        create.Should().Throw<PlatformNotSupportedException>()
            .WithMessage("*'[::1]:8080'*Use 'localhost:8080' or '127.0.0.1:8080'*");
    }

    [Test]
    public async Task Every_answer_says_no_store_and_nosniff()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats")
            .HandleFunc("/boom", (_, _) => throw new InvalidOperationException()));
        using HttpClient client = TestServers.Client(server);

        foreach (string path in new[] { "/api/stats", "/missing", "/boom" })
        {
            using HttpResponseMessage response = await client.GetAsync(path);
            response.Headers.CacheControl!.NoStore.Should().BeTrue(path);
            response.Headers.GetValues("X-Content-Type-Options").Should().Equal(["nosniff"], path);
        }
    }
}
