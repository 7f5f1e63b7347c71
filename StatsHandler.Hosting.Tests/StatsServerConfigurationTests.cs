using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StatsHandler.Hosting.Tests.Support;

namespace StatsHandler.Hosting.Tests;

/// <summary>Settings read from configuration (files, environment) and checked at start, each error naming its key.</summary>
public class StatsServerConfigurationTests
{
    [Test]
    public async Task Limits_credentials_and_allowed_hosts_are_read_from_the_section()
    {
        using IHost host = await StartAsync(new Dictionary<string, string?>
        {
            // Allowed hosts are for a server other machines reach: on all interfaces (a loopback one refuses them).
            ["StatsServer:Address"] = ":0",
            ["StatsServer:BearerToken"] = "s3cret-token",
            ["StatsServer:AllowedHosts"] = "localhost;stats.example.com",
            ["StatsServer:Limits:MaxUrlLength"] = "1024",
            ["StatsServer:Limits:MaxConcurrentRequests"] = "7",
            ["StatsServer:Limits:RequestTimeout"] = "00:00:03",
            ["StatsServer:Limits:MaxResponseBytes"] = "65536",
            ["StatsServer:Limits:DrainTimeout"] = "00:00:02",
        });
        StatsServer server = host.Services.GetRequiredService<StatsServerService>().Server;
        using HttpClient client = TestHosts.Client();

        using HttpResponseMessage anonymous = await client.GetAsync(host.Url("/api/stats"));
        using var request = new HttpRequestMessage(HttpMethod.Get, host.Url("/api/stats"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret-token");
        using HttpResponseMessage authorized = await client.SendAsync(request);
        await host.StopAsync().WaitAsync(TestHosts.Bound);

        anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        authorized.StatusCode.Should().Be(HttpStatusCode.OK);
        server.ToString().Should().Contain("bearer token").And.Contain("hosts localhost, stats.example.com").And.NotContain("s3cret");
        server.Limits.MaxUrlLength.Should().Be(1024);
        server.Limits.MaxConcurrentRequests.Should().Be(7);
        server.Limits.RequestTimeout.Should().Be(TimeSpan.FromSeconds(3));
        server.Limits.MaxResponseBytes.Should().Be(65536);
        server.Limits.DrainTimeout.Should().Be(TimeSpan.FromSeconds(2));
    }

    [Test]
    public async Task Allowed_hosts_may_be_a_list_and_basic_auth_takes_a_user_and_password()
    {
        using IHost host = await StartAsync(new Dictionary<string, string?>
        {
            ["StatsServer:Address"] = ":0",
            ["StatsServer:AllowedHosts:0"] = "localhost",
            ["StatsServer:AllowedHosts:1"] = "127.0.0.1",
            ["StatsServer:BasicAuth:User"] = "ops",
            ["StatsServer:BasicAuth:Password"] = "pa55",
        });
        StatsServer server = host.Services.GetRequiredService<StatsServerService>().Server;
        using HttpClient client = TestHosts.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, host.Url("/api/stats"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("ops:pa55"u8.ToArray()));

        using HttpResponseMessage response = await client.SendAsync(request);
        await host.StopAsync().WaitAsync(TestHosts.Bound);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        server.ToString().Should().Contain("basic auth").And.Contain("hosts localhost, 127.0.0.1");
    }

    [Test]
    public async Task Environment_variables_set_the_address_with_double_underscores()
    {
        string prefix = "STATSHANDLER_TEST_" + Guid.NewGuid().ToString("N") + "_";
        Environment.SetEnvironmentVariable(prefix + "StatsServer__Address", "127.0.0.1:0");
        Environment.SetEnvironmentVariable(prefix + "StatsServer__Limits__MaxConcurrentRequests", "3");
        try
        {
            HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Configuration.AddEnvironmentVariables(prefix);
            builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"));
            using IHost host = builder.Build();

            await host.StartAsync().WaitAsync(TestHosts.Bound);
            StatsServer server = host.Services.GetRequiredService<StatsServerService>().Server;
            await host.StopAsync().WaitAsync(TestHosts.Bound);

            server.Url.Host.Should().Be("127.0.0.1");
            server.Url.Port.Should().BeGreaterThan(0);
            server.Limits.MaxConcurrentRequests.Should().Be(3);
        }
        finally
        {
            Environment.SetEnvironmentVariable(prefix + "StatsServer__Address", null);
            Environment.SetEnvironmentVariable(prefix + "StatsServer__Limits__MaxConcurrentRequests", null);
        }
    }

    [Test]
    public async Task Constant_labels_are_read_from_the_section_and_reach_every_sample()
    {
        using IHost host = await StartAsync(new Dictionary<string, string?>
        {
            ["StatsServer:ConstantLabels:service"] = "orders",
            ["StatsServer:ConstantLabels:region"] = "eu-west-1",
        });
        using HttpClient client = TestHosts.Client();

        string metrics = await client.GetStringAsync(host.Url("/metrics"));
        await host.StopAsync().WaitAsync(TestHosts.Bound);

        string[] samples = metrics.Split('\n').Where(l => l.Length > 0 && l[0] != '#').ToArray();
        samples.Should().HaveCountGreaterThan(20);
        samples.Should().OnlyContain(l => l.Contains("region=\"eu-west-1\"") && l.Contains("service=\"orders\""));
    }

    [Test]
    public async Task A_loopback_address_with_allowed_hosts_or_a_bad_label_fails_the_start_naming_the_keys()
    {
        Func<Task> start = () => StartAsync(new Dictionary<string, string?>
        {
            ["StatsServer:Address"] = "localhost:0",
            ["StatsServer:AllowedHosts"] = "stats.example.com",
            ["StatsServer:ConstantLabels:le"] = "x",
        });

        OptionsValidationException error = (await start.Should().ThrowAsync<OptionsValidationException>()).Which;

        error.Failures.Should().HaveCount(2);
        error.Failures.Should().ContainMatch("StatsServer:AllowedHosts: AllowHosts cannot be used on a loopback server*");
        error.Failures.Should().ContainMatch("StatsServer:ConstantLabels:le: Invalid constant label name 'le'*");
    }

    [Test]
    public async Task Every_bad_setting_fails_the_start_with_a_message_naming_its_key()
    {
        Func<Task> start = () => StartAsync(new Dictionary<string, string?>
        {
            ["StatsServer:Address"] = ":99999",
            ["StatsServer:Adress"] = "localhost:8080",
            ["StatsServer:Limits:MaxConcurrentRequests"] = "lots",
            ["StatsServer:Limits:MaxUrlLength"] = "10",
            ["StatsServer:Limits:RequestTimeout"] = "ten seconds",
            ["StatsServer:BasicAuth:User"] = "ops",
        });

        OptionsValidationException error = (await start.Should().ThrowAsync<OptionsValidationException>()).Which;

        error.Failures.Should().HaveCount(6);
        error.Failures.Should().ContainMatch("StatsServer:Address: Invalid address ':99999': port '99999' must be 1-65535*");
        error.Failures.Should().ContainMatch("StatsServer:Adress: not a StatsServer setting. Known keys here: Address, *");
        error.Failures.Should().ContainMatch("StatsServer:Limits:MaxConcurrentRequests: 'lots' is not a whole number. Example: 100.");
        error.Failures.Should().ContainMatch("StatsServer:Limits:MaxUrlLength: MaxUrlLength 10 must be between 64 and *");
        error.Failures.Should().ContainMatch("StatsServer:Limits:RequestTimeout: 'ten seconds' is not a time span (hh:mm:ss). Example: 00:00:10.");
        error.Failures.Should().ContainMatch("StatsServer:BasicAuth:Password: missing.*");
        error.Message.Should().Contain("StatsServer:Address");
    }

    [Test]
    public async Task An_empty_bearer_token_from_an_unset_variable_fails_the_start_naming_the_key()
    {
        Func<Task> start = () => StartAsync(new Dictionary<string, string?> { ["StatsServer:BearerToken"] = string.Empty });

        (await start.Should().ThrowAsync<OptionsValidationException>())
            .Which.Failures.Should().ContainSingle().Which.Should().StartWith("StatsServer:BearerToken: ");
    }

    [Test]
    public async Task Errors_name_the_keys_under_whatever_section_the_application_chose()
    {
        var logs = new RecordingLoggerProvider();
        HostApplicationBuilder builder = TestHosts.Builder(logs, new Dictionary<string, string?> { ["Monitoring:Stats:Address"] = "nope:port" });
        builder.Services.AddStatsServer(builder.Configuration.GetSection("Monitoring:Stats"));
        using IHost host = builder.Build();

        Func<Task> start = () => host.StartAsync().WaitAsync(TestHosts.Bound);

        (await start.Should().ThrowAsync<OptionsValidationException>())
            .Which.Failures.Should().ContainSingle().Which.Should().StartWith("Monitoring:Stats:Address: ");
    }

    [Test]
    public async Task Code_can_set_the_options_too()
    {
        var logs = new RecordingLoggerProvider();
        HostApplicationBuilder builder = TestHosts.Builder(logs);
        builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"));
        builder.Services.PostConfigure<StatsServerOptions>(o => o.Limits.MaxConcurrentRequests = 5);
        using IHost host = builder.Build();

        await host.StartAsync().WaitAsync(TestHosts.Bound);
        StatsServer server = host.Services.GetRequiredService<StatsServerService>().Server;
        await host.StopAsync().WaitAsync(TestHosts.Bound);

        server.Limits.MaxConcurrentRequests.Should().Be(5);
    }

    private static async Task<IHost> StartAsync(Dictionary<string, string?> settings)
    {
        var logs = new RecordingLoggerProvider();
        HostApplicationBuilder builder = TestHosts.Builder(logs, settings);
        builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"), server => server.Handle("/api/stats").HandlePrometheus("/metrics"));
        IHost host = builder.Build();
        try
        {
            await host.StartAsync().WaitAsync(TestHosts.Bound);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return host;
    }
}
