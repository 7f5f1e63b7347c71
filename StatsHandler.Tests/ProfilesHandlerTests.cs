using System.Diagnostics;
using System.Net;
using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>
/// The profile routes over real HTTP with collectors that open no session (<see cref="FakeCollectors"/>): routing,
/// formats, options, the one-session gate shared with traces, and every way a collection ends. Alone: the gate is the
/// process's.
/// </summary>
[NonParallelizable]
public class ProfilesHandlerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly string[] Others = ["/debug/pprof/profile", "/debug/pprof/threads", "/debug/pprof/heap", "/debug/trace?seconds=1&profile=gc"];

    [TestCase("/debug/pprof")]
    [TestCase("/debug/pprof/")]
    public async Task The_index_lists_each_profile_with_its_commands_at_the_servers_real_url(string path)
    {
        var fake = new FakeCollectors();
        await using StatsServer server = await TestServers.StartAsync(s => s.HandleProfiles("/debug/pprof", fake.Collectors));
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage response = await client.GetAsync(path);
        string html = await response.Content.ReadAsStringAsync();

        string url = $"http://127.0.0.1:{server.Url.Port}/debug/pprof";
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("text/html; charset=utf-8");
        string.Join(" ", response.Headers.GetValues("Content-Security-Policy")).Should().StartWith("default-src 'none'");
        html.Should().Contain($"<a href=\"{url}/profile?seconds=10\">CPU profile</a>")
            .And.Contain($"<a href=\"{url}/threads\">Thread stacks</a>")
            .And.Contain($"<a href=\"{url}/heap\">Heap by type</a>");
        html.Should().Contain($"curl -o profile.pb.gz &#39;{url}/profile?seconds=10&#39;")
            .And.Contain($"go tool pprof -top &#39;{url}/profile?seconds=10&#39;")
            .And.Contain($"curl &#39;{url}/threads&#39;")
            .And.Contain($"go tool pprof -sample_index=inuse_space -top &#39;{url}/heap&#39;")
            .And.Contain($"curl &#39;{url}/heap?debug=1&#39;");
        html.Should().Contain($"Profiles of process {Environment.ProcessId}").And.Contain("full blocking collection");
        fake.Calls.Should().BeEmpty("the index runs nothing");
    }

    [Test]
    public async Task Mounted_at_the_root_the_routes_hang_off_slash()
    {
        var fake = new FakeCollectors();
        await using StatsServer server = await TestServers.StartAsync(s => s.HandleProfiles("/", fake.Collectors));
        using HttpClient client = TestServers.Client(server);

        string html = await client.GetStringAsync("/");
        using HttpResponseMessage heap = await client.GetAsync("/heap");

        html.Should().Contain($"<a href=\"http://127.0.0.1:{server.Url.Port}/heap\">");
        heap.StatusCode.Should().Be(HttpStatusCode.OK);
        fake.Calls.Should().Equal("heap");
    }

    [Test]
    public async Task The_cpu_profile_is_pprof_for_ten_seconds_by_default_and_json_on_request()
    {
        var fake = new FakeCollectors();
        await using StatsServer server = await TestServers.StartAsync(s => s.HandleProfiles("/debug/pprof", fake.Collectors));
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage pprof = await client.GetAsync("/debug/pprof/profile");
        byte[] bytes = await pprof.Content.ReadAsByteArrayAsync();
        using HttpResponseMessage json = await client.GetAsync("/debug/pprof/profile?seconds=3&format=json");
        using JsonDocument body = JsonDocument.Parse(await json.Content.ReadAsStringAsync());

        pprof.StatusCode.Should().Be(HttpStatusCode.OK);
        pprof.Content.Headers.ContentType!.MediaType.Should().Be("application/octet-stream");
        pprof.Content.Headers.ContentDisposition!.DispositionType.Should().Be("attachment");
        pprof.Content.Headers.ContentDisposition.FileName.Should().Be("profile.pb.gz");
        bytes.Should().Equal(FakeCollectors.CpuPprof);
        json.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        body.RootElement.GetProperty("stacks").GetArrayLength().Should().Be(2);
        fake.Calls.Should().Equal("cpu 10s", "cpu 3s");
    }

    [Test]
    public async Task Threads_are_text_by_default_and_json_on_request()
    {
        var fake = new FakeCollectors();
        await using StatsServer server = await TestServers.StartAsync(s => s.HandleProfiles("/debug/pprof", fake.Collectors));
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage text = await client.GetAsync("/debug/pprof/threads");
        using HttpResponseMessage debug = await client.GetAsync("/debug/pprof/threads?debug=2");
        using HttpResponseMessage json = await client.GetAsync("/debug/pprof/threads?format=json&pp=1");

        text.Content.Headers.ContentType!.ToString().Should().Be("text/plain; charset=utf-8");
        (await text.Content.ReadAsStringAsync()).Should().Be("thread 1 \"main\"\n  at Blocked.Wait\n");
        (await debug.Content.ReadAsStringAsync()).Should().Contain("Blocked.Wait", "debug=2 is text, as Go's goroutine?debug=2");
        (await json.Content.ReadAsStringAsync()).Should().Be("{\n  \"threads\": 1\n}", "pp=1 indents");
    }

    [Test]
    public async Task The_bare_heap_is_pprof_as_in_go_and_debug_1_is_text()
    {
        var fake = new FakeCollectors();
        await using StatsServer server = await TestServers.StartAsync(s => s.HandleProfiles("/debug/pprof", fake.Collectors));
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage pprof = await client.GetAsync("/debug/pprof/heap");
        byte[] bytes = await pprof.Content.ReadAsByteArrayAsync();
        string text = await client.GetStringAsync("/debug/pprof/heap?debug=1");
        string text2 = await client.GetStringAsync("/debug/pprof/heap?format=text");
        string json = await client.GetStringAsync("/debug/pprof/heap?format=json");
        using HttpResponseMessage debug0 = await client.GetAsync("/debug/pprof/heap?debug=0");

        pprof.Content.Headers.ContentDisposition!.FileName.Should().Be("heap.pb.gz");
        bytes.Should().Equal(FakeCollectors.HeapPprof);
        text.Should().Be("10000 240000 Demo.Item\n");
        text2.Should().Be(text);
        json.Should().Be("{\"objects\":10000}");
        (await debug0.Content.ReadAsByteArrayAsync()).Should().Equal(FakeCollectors.HeapPprof, "debug=0 is the binary form, as in Go");
    }

    [TestCase("profile?seconds=0", "seconds='0' is not a whole number from 1 to 60")]
    [TestCase("profile?seconds=61", "seconds='61'")]
    [TestCase("profile?seconds=-1", "seconds='-1'")]
    [TestCase("profile?seconds=abc", "seconds='abc'")]
    [TestCase("profile?format=text", "format='text' is not one of pprof, json")]
    [TestCase("threads?format=pprof", "format='pprof' is not one of text, json")]
    [TestCase("heap?format=xml", "format='xml' is not one of pprof, text, json")]
    [TestCase("heap?debug=3", "debug='3' is not 0, 1 or 2")]
    public async Task A_bad_option_gets_400_with_a_json_body_naming_it_and_runs_nothing(string query, string named)
    {
        var fake = new FakeCollectors();
        await using StatsServer server = await TestServers.StartAsync(s => s.HandleProfiles("/debug/pprof", fake.Collectors));
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage response = await client.GetAsync($"/debug/pprof/{query}");
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        body.RootElement.GetProperty("error").GetString().Should().Contain(named);
        fake.Calls.Should().BeEmpty();
    }

    [Test]
    public async Task While_a_profile_runs_every_other_profile_and_trace_gets_409_and_afterwards_they_run()
    {
        var fake = new FakeCollectors { Block = true };
        await using StatsServer server = await TestServers.StartAsync(s => s.HandleProfiles("/debug/pprof", fake.Collectors).HandleTrace("/debug/trace"));
        using HttpClient client = TestServers.Client(server);
        client.Timeout = Bound;

        Task<HttpResponseMessage> first = client.GetAsync("/debug/pprof/profile?seconds=60");
        await fake.Started.WaitAsync(Bound);
        fake.Block = false;
        string[] refused = await Task.WhenAll(
            Others.Select(async path =>
            {
                using HttpResponseMessage r = await client.GetAsync(path);
                using JsonDocument body = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
                return $"{(int)r.StatusCode} {body.RootElement.GetProperty("error").GetString()}";
            }));
        fake.Release();
        using HttpResponseMessage done = await first.WaitAsync(Bound);
        using HttpResponseMessage after = await client.GetAsync("/debug/pprof/heap");

        refused.Should().AllSatisfy(r => r.Should().StartWith("409 a CPU profile is already running in this process"));
        done.StatusCode.Should().Be(HttpStatusCode.OK, "the first profile ran its course");
        (await done.Content.ReadAsByteArrayAsync()).Should().Equal(FakeCollectors.CpuPprof);
        after.StatusCode.Should().Be(HttpStatusCode.OK, "the gate is free once the first ended");
        fake.Calls.Should().Equal("cpu 60s", "heap");
    }

    [Test]
    public async Task While_a_real_trace_runs_a_profile_gets_409_naming_the_trace()
    {
        var fake = new FakeCollectors();
        await using StatsServer server = await TestServers.StartAsync(s => s.HandleProfiles("/debug/pprof", fake.Collectors).HandleTrace("/debug/trace"));
        using HttpClient client = TestServers.Client(server);
        client.Timeout = Bound;

        using HttpResponseMessage trace = await client.GetAsync("/debug/trace?seconds=3&profile=gc", HttpCompletionOption.ResponseHeadersRead);
        using HttpResponseMessage refused = await client.GetAsync("/debug/pprof/heap");
        using JsonDocument body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        await trace.Content.ReadAsByteArrayAsync();
        using HttpResponseMessage after = await Poll.UntilAsync(
            ct => client.GetAsync("/debug/pprof/heap", ct), r => r.StatusCode != HttpStatusCode.Conflict, Bound, "the trace to end");

        trace.StatusCode.Should().Be(HttpStatusCode.OK);
        refused.StatusCode.Should().Be(HttpStatusCode.Conflict);
        body.RootElement.GetProperty("error").GetString().Should().StartWith("a trace is already running in this process");
        body.RootElement.GetProperty("status").GetInt32().Should().Be(409);
        after.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Test]
    public async Task A_client_that_leaves_mid_profile_ends_it_and_frees_the_gate_five_times()
    {
        var fake = new FakeCollectors { Block = true };
        await using StatsServer server = await TestServers.StartAsync(s => s.HandleProfiles("/debug/pprof", fake.Collectors));
        for (int round = 0; round < 5; round++)
        {
            fake.Reset();
            using (var leaving = new HttpClient { BaseAddress = server.Url, Timeout = Bound })
            {
                using var cancel = new CancellationTokenSource();
                Task<HttpResponseMessage> request = leaving.GetAsync("/debug/pprof/profile?seconds=60", cancel.Token);
                await fake.Started.WaitAsync(Bound);
                var clock = Stopwatch.StartNew();
                await cancel.CancelAsync();
                await request.ContinueWith(_ => { }, TaskScheduler.Default);

                bool byToken = await fake.Ended.WaitAsync(TimeSpan.FromSeconds(20));
                TestContext.Out.WriteLine($"round {round}: the collection ended {clock.Elapsed.TotalSeconds:0.00} s after the client left");
                byToken.Should().BeTrue($"round {round}: the client's departure cancelled the collection, not its 60 s");
            }

            fake.Block = false;
            using HttpClient client = TestServers.Client(server);
            using HttpResponseMessage next = await Poll.UntilAsync(
                ct => client.GetAsync("/debug/pprof/heap", ct), r => r.StatusCode != HttpStatusCode.Conflict, Bound, $"round {round}: the gate to free");
            next.StatusCode.Should().Be(HttpStatusCode.OK, $"round {round}");
            fake.Block = true;
        }
    }

    [Test]
    public async Task Stopping_the_server_during_a_profile_ends_it_at_once_with_503_five_times()
    {
        var fake = new FakeCollectors { Block = true };
        for (int round = 0; round < 5; round++)
        {
            fake.Reset();
            StatsServer server = await TestServers.StartAsync(s => s.HandleProfiles("/debug/pprof", fake.Collectors));
            using HttpClient client = TestServers.Client(server);
            client.Timeout = Bound;
            Task<HttpResponseMessage> request = client.GetAsync("/debug/pprof/profile?seconds=60");
            await fake.Started.WaitAsync(Bound);

            var clock = Stopwatch.StartNew();
            await server.DisposeAsync().AsTask().WaitAsync(Bound);
            TestContext.Out.WriteLine($"round {round}: stopped in {clock.Elapsed.TotalSeconds:0.00} s");
            using HttpResponseMessage response = await request.WaitAsync(Bound);
            using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

            (await fake.Ended.WaitAsync(Bound)).Should().BeTrue($"round {round}: the stop cancelled the collection");
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "the profile stops with the server, not after its 60 s");
            response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            body.RootElement.GetProperty("error").GetString().Should().Be("server is stopping: a CPU profile was cut short");
            DiagnosticGate.Running.Should().BeNull($"round {round}: the gate is free");
        }
    }

    [Test]
    public async Task A_profile_longer_than_the_servers_request_timeout_runs_its_course_under_the_routes_own()
    {
        var fake = new FakeCollectors { Block = true };
        await using StatsServer server = await TestServers.StartAsync(s =>
        {
            s.Limits.RequestTimeout = TimeSpan.FromMilliseconds(500);
            s.HandleProfiles("/debug/pprof", fake.Collectors);
        });
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage response = await client.GetAsync("/debug/pprof/profile?seconds=2");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await fake.Ended).Should().BeFalse("the profile ran its two seconds, four times the server's timeout");
        ProfilesHandler.RouteTimeout.Should().BeGreaterThan(TimeSpan.FromSeconds(DiagnosticRequest.MaxSeconds + 30), "room for the longest profile and its rundown");
    }

    [Test]
    public void The_profiles_on_every_interface_without_credentials_refuse_to_start()
    {
        using var server = new StatsServer(":0").HandleProfiles("/debug/pprof", new FakeCollectors().Collectors);

        Func<Task> start = () => server.StartAsync();

        start.Should().ThrowAsync<InvalidOperationException>()
            .WithMessage("The profile routes under '/debug/pprof' would let anyone who reaches ':0' profile this process*credentials*loopback*").Wait();
    }

    [Test]
    public async Task The_profiles_on_every_interface_start_with_credentials_and_ask_for_them()
    {
        await using StatsServer server = await TestServers.StartAsync(
            s => s.RequireBearerToken("sesame-1234567890").HandleProfiles("/debug/pprof", new FakeCollectors().Collectors), ":0");
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.Url.Port}/"), Timeout = Bound };

        using HttpResponseMessage anonymous = await client.GetAsync("/debug/pprof/heap");

        anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Test]
    public void A_mount_whose_route_is_taken_mounts_nothing()
    {
        using var server = new StatsServer("127.0.0.1:0").HandleFunc("/debug/pprof/heap", (c, ct) => Task.CompletedTask);

        Action mount = () => server.HandleProfiles("/debug/pprof", new FakeCollectors().Collectors);

        mount.Should().Throw<InvalidOperationException>().WithMessage("Pattern '/debug/pprof/heap' is already mounted*");
        server.Invoking(s => s.HandleFunc("/debug/pprof", (c, ct) => Task.CompletedTask)).Should().NotThrow("the index was not mounted either");
    }
}
