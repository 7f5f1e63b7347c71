using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StatsHandler.Hosting.Tests.Support;

namespace StatsHandler.Hosting.Tests;

/// <summary>The hosted service, through a real Generic Host: start, serve, log, stop.</summary>
public class StatsServerServiceTests
{
    [Test]
    public async Task A_host_built_with_AddStatsServer_serves_the_stats_and_prometheus_routes()
    {
        var logs = new RecordingLoggerProvider();
        HostApplicationBuilder builder = TestHosts.Builder(logs);
        builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"), server => server
            .Handle("/api/stats")
            .HandlePrometheus("/metrics"));
        using IHost host = builder.Build();

        await host.StartAsync().WaitAsync(TestHosts.Bound);
        using HttpClient client = TestHosts.Client();
        using HttpResponseMessage stats = await client.GetAsync(host.Url("/api/stats"));
        string metrics = await client.GetStringAsync(host.Url("/metrics"));
        await host.StopAsync().WaitAsync(TestHosts.Bound);

        stats.StatusCode.Should().Be(HttpStatusCode.OK);
        using JsonDocument json = JsonDocument.Parse(await stats.Content.ReadAsStringAsync());
        json.RootElement.GetProperty("pid").GetInt32().Should().Be(Environment.ProcessId);
        metrics.Should().Contain("# TYPE process_cpu_seconds_total counter");
        logs.Entries.Should().Contain(e => e.Category == StatsServerService.LoggerCategory && e.Message.StartsWith("Serving runtime stats on http://127.0.0.1:", StringComparison.Ordinal));
        logs.Entries.Should().Contain(e => e.Category == StatsServerService.LoggerCategory && e.Message.EndsWith("stopped", StringComparison.Ordinal));
    }

    [Test]
    public async Task The_docs_settings_example_logs_a_url_that_answers_and_leaves_the_probe_open()
    {
        // docs/hosting.md's example (all interfaces, a token, one allowed host, an anonymous /healthz), on a free port.
        var logs = new RecordingLoggerProvider();
        HostApplicationBuilder builder = TestHosts.Builder(logs, new Dictionary<string, string?>
        {
            ["StatsServer:Address"] = ":0",
            ["StatsServer:BearerToken"] = "docs-example-token",
            ["StatsServer:AllowedHosts"] = "stats.internal.example",
            ["StatsServer:AllowAnonymous"] = "/healthz",
        });
        builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"), server => server
            .Handle("/api/stats")
            .HandleFunc("/healthz", (context, ct) => StatsResponse.WriteTextAsync(context, 200, "ok\n", ct)));
        using IHost host = builder.Build();
        await host.StartAsync().WaitAsync(TestHosts.Bound);

        string line = logs.Entries.Single(e => e.Message.StartsWith("Serving runtime stats on ", StringComparison.Ordinal)).Message;
        var logged = new Uri(line.Split(' ')[4]);
        using HttpClient client = TestHosts.Client();

        // What the doc's curl does: the local port, the logged URL's Host.
        async Task<HttpStatusCode> GetAsync(string path, string hostHeader, bool token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{logged.Port}{path}");
            request.Headers.Host = hostHeader;
            if (token)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "docs-example-token");
            }

            using HttpResponseMessage response = await client.SendAsync(request);
            return response.StatusCode;
        }

        HttpStatusCode stats = await GetAsync("/api/stats", logged.Authority, token: true);
        HttpStatusCode probe = await GetAsync("/healthz", logged.Authority, token: false);
        HttpStatusCode noToken = await GetAsync("/api/stats", logged.Authority, token: false);
        HttpStatusCode localhost = await GetAsync("/api/stats", $"localhost:{logged.Port}", token: true);
        await host.StopAsync().WaitAsync(TestHosts.Bound);

        logged.Host.Should().Be("stats.internal.example", "the log names a host the server answers");
        stats.Should().Be(HttpStatusCode.OK);
        probe.Should().Be(HttpStatusCode.OK, "AllowAnonymous in configuration opens /healthz");
        noToken.Should().Be(HttpStatusCode.Unauthorized);
        localhost.Should().Be(HttpStatusCode.Forbidden, "localhost is not an allowed host here, as the doc says");
    }

    [Test]
    public async Task An_anonymous_route_that_nothing_serves_fails_the_start_naming_its_key()
    {
        var logs = new RecordingLoggerProvider();
        HostApplicationBuilder builder = TestHosts.Builder(logs, new Dictionary<string, string?>
        {
            ["StatsServer:BearerToken"] = "docs-example-token",
            ["StatsServer:AllowAnonymous:0"] = "/healthz",
            ["StatsServer:AllowAnonymous:1"] = "/livez",
        });
        builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"), server => server
            .Handle("/api/stats")
            .HandleFunc("/healthz", (context, ct) => StatsResponse.WriteTextAsync(context, 200, "ok\n", ct)));
        using IHost host = builder.Build();

        Func<Task> start = () => host.StartAsync().WaitAsync(TestHosts.Bound);

        (await start.Should().ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>())
            .Which.Failures.Should().ContainSingle()
            .Which.Should().StartWith("StatsServer:AllowAnonymous: Cannot allow anonymous access to '/livez': nothing is mounted there");
    }

    [Test]
    public async Task Without_a_configure_callback_the_server_serves_the_json_stats()
    {
        var logs = new RecordingLoggerProvider();
        HostApplicationBuilder builder = TestHosts.Builder(logs);
        builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"));
        using IHost host = builder.Build();

        await host.StartAsync().WaitAsync(TestHosts.Bound);
        using HttpClient client = TestHosts.Client();
        using HttpResponseMessage response = await client.GetAsync(host.Url("/api/stats"));
        await host.StopAsync().WaitAsync(TestHosts.Bound);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
    }

    [Test]
    public async Task A_handler_failure_is_logged_through_ILogger_in_the_StatsHandler_category()
    {
        var logs = new RecordingLoggerProvider();
        HostApplicationBuilder builder = TestHosts.Builder(logs);
        builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"), server => server
            .HandleFunc("/boom", (_, _) => throw new InvalidOperationException("the handler broke")));
        using IHost host = builder.Build();

        await host.StartAsync().WaitAsync(TestHosts.Bound);
        using HttpClient client = TestHosts.Client();
        using HttpResponseMessage response = await client.GetAsync(host.Url("/boom"));
        LogEntry logged = await logs.WaitForAsync(e => e.Level == LogLevel.Error).WaitAsync(TestHosts.Bound);
        await host.StopAsync().WaitAsync(TestHosts.Bound);

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        logged.Category.Should().Be("StatsHandler.StatsServer");
        logged.Message.Should().Be("Stats request failed");
        logged.Exception.Should().BeOfType<StatsHandlerException>()
            .Which.InnerException!.Message.Should().Be("the handler broke");
        ((StatsHandlerException)logged.Exception!).Path.Should().Be("/boom");
    }

    [Test]
    public async Task Stopping_the_host_stops_the_server_within_the_hosts_shutdown_timeout_even_with_a_long_drain()
    {
        var logs = new RecordingLoggerProvider();
        HostApplicationBuilder builder = TestHosts.Builder(logs, new Dictionary<string, string?>
        {
            // Without the host's timeout the server would wait minutes for the stuck request.
            ["StatsServer:Limits:DrainTimeout"] = "00:05:00",
            ["StatsServer:Limits:RequestTimeout"] = "00:05:00",
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"), server => server
            .HandleFunc("/stuck", async (_, ct) =>
            {
                entered.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            }));
        using IHost host = builder.Build();
        await host.StartAsync().WaitAsync(TestHosts.Bound);
        StatsServer server = host.Services.GetRequiredService<StatsServerService>().Server;
        using HttpClient client = TestHosts.Client();
        Task<HttpResponseMessage> stuck = client.GetAsync(host.Url("/stuck"));
        await entered.Task.WaitAsync(TestHosts.Bound);

        var clock = Stopwatch.StartNew();
        await host.StopAsync().WaitAsync(TestHosts.Bound);
        clock.Stop();

        server.IsListening.Should().BeFalse();
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20), "the host's 1 s shutdown timeout cuts the 5 min drain short");
        logs.Entries.Should().Contain(e => e.Message.EndsWith("stopped", StringComparison.Ordinal));
        // The aborted request ends one way or another (a cut connection or an error status): it does not hang.
        await ((Task)stuck).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TestHosts.Bound);
        stuck.IsCompleted.Should().BeTrue();
    }

    [Test]
    public async Task A_taken_port_fails_the_host_start_with_the_servers_message_naming_the_port()
    {
        await using var holder = new StatsServer("127.0.0.1:0").Handle("/api/stats");
        await holder.StartAsync();
        int port = holder.Url.Port;
        var logs = new RecordingLoggerProvider();
        HostApplicationBuilder builder = TestHosts.Builder(logs, new Dictionary<string, string?> { ["StatsServer:Address"] = $"127.0.0.1:{port}" });
        builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"));
        using IHost host = builder.Build();

        Func<Task> start = () => host.StartAsync().WaitAsync(TestHosts.Bound);

        (await start.Should().ThrowAsync<HttpListenerException>())
            .Which.Message.Should().Contain($"port {port} is already in use");
    }

    [Test]
    public async Task Calling_OnError_in_the_configure_callback_replaces_the_logger()
    {
        var logs = new RecordingLoggerProvider();
        var seen = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        HostApplicationBuilder builder = TestHosts.Builder(logs);
        builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"), server => server
            .HandleFunc("/boom", (_, _) => throw new InvalidOperationException("mine"))
            .OnError(e => seen.TrySetResult(e)));
        using IHost host = builder.Build();

        await host.StartAsync().WaitAsync(TestHosts.Bound);
        using HttpClient client = TestHosts.Client();
        using HttpResponseMessage response = await client.GetAsync(host.Url("/boom"));
        Exception error = await seen.Task.WaitAsync(TestHosts.Bound);
        await host.StopAsync().WaitAsync(TestHosts.Bound);

        error.InnerException!.Message.Should().Be("mine");
        logs.Entries.Should().NotContain(e => e.Level == LogLevel.Error);
    }

    [Test]
    public void Adding_a_second_stats_server_throws_naming_the_fix()
    {
        var services = new ServiceCollection();
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build();
        services.AddStatsServer(configuration);

        Action again = () => services.AddStatsServer(configuration);

        again.Should().Throw<InvalidOperationException>().WithMessage("AddStatsServer was already called*one configure callback*");
    }

    [Test]
    public void The_server_is_not_there_before_the_host_starts()
    {
        var logs = new RecordingLoggerProvider();
        HostApplicationBuilder builder = TestHosts.Builder(logs);
        builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"));
        using IHost host = builder.Build();

        Func<StatsServer> read = () => host.Services.GetRequiredService<StatsServerService>().Server;

        read.Should().Throw<InvalidOperationException>().WithMessage("*after IHost.StartAsync*");
    }
}
