using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using StatsHandler.Hosting.Tests.Support;

namespace StatsHandler.Hosting.Tests;

/// <summary>Registered IHealthChecks served on a route of the stats server, as MapHealthChecks serves them.</summary>
public class HealthChecksTests
{
    [Test]
    public async Task A_failing_check_answers_503_with_each_checks_status_and_duration()
    {
        using IHost host = await StartAsync(checks => checks
            .AddCheck("self", () => HealthCheckResult.Healthy("running"), tags: ["live"])
            .AddCheck("database", () => HealthCheckResult.Unhealthy("connection refused")));
        using HttpClient client = TestHosts.Client();

        using HttpResponseMessage response = await client.GetAsync(host.Url("/healthz"));
        string body = await response.Content.ReadAsStringAsync();
        await host.StopAsync().WaitAsync(TestHosts.Bound);

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        using JsonDocument json = JsonDocument.Parse(body);
        JsonElement root = json.RootElement;
        root.GetProperty("status").GetString().Should().Be("Unhealthy");
        root.GetProperty("duration_ms").GetDouble().Should().BeGreaterThanOrEqualTo(0);
        JsonElement checks = root.GetProperty("checks");
        checks.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("self", "database");
        checks.GetProperty("self").GetProperty("status").GetString().Should().Be("Healthy");
        checks.GetProperty("self").GetProperty("description").GetString().Should().Be("running");
        checks.GetProperty("self").GetProperty("tags").EnumerateArray().Select(t => t.GetString()).Should().Equal("live");
        checks.GetProperty("database").GetProperty("status").GetString().Should().Be("Unhealthy");
        checks.GetProperty("database").GetProperty("description").GetString().Should().Be("connection refused");
        checks.GetProperty("database").GetProperty("duration_ms").GetDouble().Should().BeGreaterThanOrEqualTo(0);
    }

    [Test]
    public async Task Healthy_and_degraded_checks_answer_200()
    {
        using IHost host = await StartAsync(checks => checks
            .AddCheck("self", () => HealthCheckResult.Healthy())
            .AddCheck("cache", () => HealthCheckResult.Degraded("slow")));
        using HttpClient client = TestHosts.Client();

        using HttpResponseMessage response = await client.GetAsync(host.Url("/healthz"));
        using JsonDocument json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        await host.StopAsync().WaitAsync(TestHosts.Bound);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        json.RootElement.GetProperty("status").GetString().Should().Be("Degraded");
    }

    [Test]
    public async Task A_check_that_throws_is_unhealthy_and_its_exception_message_is_not_sent()
    {
        using IHost host = await StartAsync(checks => checks
            .AddCheck("secret", () => throw new InvalidOperationException("password=hunter2")));
        using HttpClient client = TestHosts.Client();

        using HttpResponseMessage response = await client.GetAsync(host.Url("/healthz"));
        string body = await response.Content.ReadAsStringAsync();
        await host.StopAsync().WaitAsync(TestHosts.Bound);

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        body.Should().NotContain("hunter2");
    }

    [Test]
    public async Task No_check_registered_is_healthy()
    {
        using IHost host = await StartAsync(checks => checks);
        using HttpClient client = TestHosts.Client();

        using HttpResponseMessage response = await client.GetAsync(host.Url("/healthz"));
        string body = await response.Content.ReadAsStringAsync();
        await host.StopAsync().WaitAsync(TestHosts.Bound);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        body.Should().StartWith("{\"status\":\"Healthy\",\"duration_ms\":").And.EndWith(",\"checks\":{}}");
    }

    [Test]
    public async Task A_predicate_serves_only_the_checks_it_accepts()
    {
        var logs = new RecordingLoggerProvider();
        HostApplicationBuilder builder = TestHosts.Builder(logs);
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), tags: ["live"])
            .AddCheck("database", () => HealthCheckResult.Unhealthy());
        builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"), (services, server) => server
            .HandleHealthChecks("/livez", services, check => check.Tags.Contains("live")));
        using IHost host = builder.Build();
        await host.StartAsync().WaitAsync(TestHosts.Bound);
        using HttpClient client = TestHosts.Client();

        using HttpResponseMessage response = await client.GetAsync(host.Url("/livez"));
        using JsonDocument json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        await host.StopAsync().WaitAsync(TestHosts.Bound);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        json.RootElement.GetProperty("checks").EnumerateObject().Select(p => p.Name).Should().Equal("self");
    }

    [Test]
    public async Task Serving_health_checks_without_AddHealthChecks_fails_the_start_naming_the_fix()
    {
        var logs = new RecordingLoggerProvider();
        HostApplicationBuilder builder = TestHosts.Builder(logs);
        builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"), (services, server) => server
            .HandleHealthChecks("/healthz", services));
        using IHost host = builder.Build();

        Func<Task> start = () => host.StartAsync().WaitAsync(TestHosts.Bound);

        await start.Should().ThrowAsync<InvalidOperationException>().WithMessage("*'/healthz'*AddHealthChecks()*");
    }

    private static async Task<IHost> StartAsync(Func<IHealthChecksBuilder, IHealthChecksBuilder> checks)
    {
        var logs = new RecordingLoggerProvider();
        HostApplicationBuilder builder = TestHosts.Builder(logs);
        checks(builder.Services.AddHealthChecks());
        builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"), (services, server) => server
            .Handle("/api/stats")
            .HandleHealthChecks("/healthz", services));
        IHost host = builder.Build();
        await host.StartAsync().WaitAsync(TestHosts.Bound);
        return host;
    }
}
