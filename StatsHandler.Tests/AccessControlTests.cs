using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

public class AccessControlTests
{
    private const string Token = "s3cr3t-t0ken-value";

    [Test]
    public async Task A_bearer_token_is_required_and_checked()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats").RequireBearerToken(Token));
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage missing = await client.GetAsync("/api/stats");
        using HttpResponseMessage wrong = await SendAsync(client, "Bearer", "wrong-token");
        using HttpResponseMessage truncated = await SendAsync(client, "Bearer", Token[..^1]);
        using HttpResponseMessage otherScheme = await SendAsync(client, "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("a:" + Token)));
        using HttpResponseMessage right = await SendAsync(client, "Bearer", Token);

        foreach (HttpResponseMessage refused in new[] { missing, wrong, truncated, otherScheme })
        {
            refused.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            refused.Headers.WwwAuthenticate.ToString().Should().Be("Bearer realm=\"StatsHandler\"");
            string body = await refused.Content.ReadAsStringAsync();
            JsonDocument.Parse(body).RootElement.GetProperty("error").GetString().Should().Be("authentication required");
            body.Should().NotContain(Token);
        }

        right.StatusCode.Should().Be(HttpStatusCode.OK);
        TestContext.Progress.WriteLine($"bearer: missing={(int)missing.StatusCode} wrong={(int)wrong.StatusCode} truncated={(int)truncated.StatusCode} right={(int)right.StatusCode}");
    }

    [Test]
    public async Task Basic_auth_is_required_and_checked()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats").RequireBasicAuth("ops", "p@ss:word"));
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage missing = await client.GetAsync("/api/stats");
        using HttpResponseMessage wrong = await SendAsync(client, "Basic", Base64("ops:nope"));
        using HttpResponseMessage wrongUser = await SendAsync(client, "Basic", Base64("root:p@ss:word"));
        using HttpResponseMessage garbage = await SendAsync(client, "Basic", "!!!not-base64!!!");
        using HttpResponseMessage right = await SendAsync(client, "Basic", Base64("ops:p@ss:word"));

        foreach (HttpResponseMessage refused in new[] { missing, wrong, wrongUser, garbage })
        {
            refused.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            refused.Headers.WwwAuthenticate.ToString().Should().StartWith("Basic realm=\"StatsHandler\"");
        }

        right.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Test]
    public async Task An_authorize_predicate_that_refuses_gives_403_and_one_that_throws_gives_500()
    {
        var errors = new ConcurrentQueue<Exception>();
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats")
            .Authorize(r => r.Headers["X-Team"] == "ops")
            .Authorize(r => r.Headers["X-Explode"] is null ? true : throw new InvalidOperationException("predicate broke"))
            .OnError(errors.Enqueue));
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage refused = await client.GetAsync("/api/stats");
        using var allowedRequest = new HttpRequestMessage(HttpMethod.Get, "/api/stats") { Headers = { { "X-Team", "ops" } } };
        using HttpResponseMessage allowed = await client.SendAsync(allowedRequest);
        using var explodingRequest = new HttpRequestMessage(HttpMethod.Get, "/api/stats") { Headers = { { "X-Team", "ops" }, { "X-Explode", "1" } } };
        using HttpResponseMessage exploded = await client.SendAsync(explodingRequest);

        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        allowed.StatusCode.Should().Be(HttpStatusCode.OK);
        exploded.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        errors.Should().ContainSingle().Which.InnerException!.Message.Should().Be("predicate broke");
    }

    [Test]
    public void Secrets_never_appear_in_to_string_or_exception_messages()
    {
        using var server = new StatsServer("127.0.0.1:0").RequireBearerToken(Token).RequireBasicAuth("ops", "hunter2-password");

        server.ToString().Should().Be("StatsServer 127.0.0.1:0 (bearer token; basic auth; loopback hosts only)");
        server.ToString().Should().NotContain(Token).And.NotContain("hunter2");

        Action badToken = () => new StatsServer("127.0.0.1:0").RequireBearerToken("has space-secret");
        Action badPassword = () => new StatsServer("127.0.0.1:0").RequireBasicAuth("ops", "line\nbreak-secret");
        badToken.Should().Throw<ArgumentException>().Which.Message.Should().NotContain("space-secret");
        badPassword.Should().Throw<ArgumentException>().Which.Message.Should().NotContain("break-secret");
        Action badUser = () => new StatsServer("127.0.0.1:0").RequireBasicAuth("a:b", "pw");
        badUser.Should().Throw<ArgumentException>().WithMessage("*without ':'*");
    }

    [Test]
    public async Task A_loopback_server_refuses_foreign_host_headers()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        var seen = new List<string>();

        foreach (string host in new[] { "evil.example", "attacker.com:80", "10.0.0.1", "localhost.evil.example" })
        {
            RawResponse response = await TestServers.SendRawAsync(
                server.Url, $"GET /api/stats HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            response.Status.Should().BeInRange(400, 499, $"Host {host} must not be served");
            response.BodyText.Should().NotContain("\"pid\"");
            seen.Add($"{host}={response.Status}");
        }

        foreach (string host in new[] { "localhost", "127.0.0.1", $"localhost:{server.Url.Port}", "LOCALHOST" })
        {
            RawResponse response = await TestServers.SendRawAsync(
                server.Url, $"GET /api/stats HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            response.Status.Should().Be(200, $"Host {host} is a loopback name");
            seen.Add($"{host}={response.Status}");
        }

        TestContext.Progress.WriteLine("host guard: " + string.Join(", ", seen));
    }

    [Test]
    public async Task A_server_on_all_interfaces_answers_only_its_allowed_hosts()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats").AllowHosts("stats.example", "10.9.8.7"), ":0");
        var seen = new List<string>();

        foreach ((string host, int expected) in new[] { ("stats.example", 200), ("STATS.EXAMPLE:8080", 200), ("10.9.8.7", 200), ("evil.example", 403), ("127.0.0.1", 403) })
        {
            RawResponse response = await TestServers.SendRawAsync(
                server.Url, $"GET /api/stats HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            response.Status.Should().Be(expected, $"Host {host}");
            seen.Add($"{host}={response.Status}");
        }

        TestContext.Progress.WriteLine("allowed hosts: " + string.Join(", ", seen));
    }

    [Test]
    public void Allowed_hosts_are_validated()
    {
        using var server = new StatsServer(":0");

        server.Invoking(s => s.AllowHosts("ok.example", "bad host")).Should().Throw<ArgumentException>().WithMessage("Invalid host 'bad host'*");
        server.Invoking(s => s.AllowHosts("")).Should().Throw<ArgumentException>();
        server.AllowHosts("stats.example.com", "10.1.2.3").Should().BeSameAs(server);
    }

    [Test]
    public void The_host_guard_recognises_loopback_names()
    {
        foreach (string host in new[] { "localhost", "LocalHost", "127.0.0.1", "127.1.2.3", "[::1]", "::1", "app.localhost" })
        {
            AccessControl.IsLoopbackName(host).Should().BeTrue(host);
        }

        foreach (string host in new[] { "evil.example", "10.0.0.1", "localhost.evil.example", "[::2]", "0.0.0.0" })
        {
            AccessControl.IsLoopbackName(host).Should().BeFalse(host);
        }
    }

    [Test]
    public async Task Configuration_is_locked_once_started()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));

        server.Invoking(s => s.RequireBearerToken(Token)).Should().Throw<InvalidOperationException>().WithMessage("*already started*");
        server.Invoking(s => s.RequireBasicAuth("a", "b")).Should().Throw<InvalidOperationException>();
        server.Invoking(s => s.Authorize(_ => true)).Should().Throw<InvalidOperationException>();
        server.Invoking(s => s.AllowHosts("x.example")).Should().Throw<InvalidOperationException>();
        server.Invoking(s => s.Limits.MaxUrlLength = 100).Should().Throw<InvalidOperationException>().WithMessage("*already started*");
    }

    [Test]
    public void The_client_guard_recognises_loopback_addresses()
    {
        var access = new AccessControl();
        access.RestrictToLoopback();
        foreach (string ip in new[] { "127.0.0.1", "127.9.8.7", "::1", "::ffff:127.0.0.1" })
        {
            access.IsClientAllowed(new IPEndPoint(IPAddress.Parse(ip), 50000)).Should().BeTrue(ip);
        }

        foreach (string ip in new[] { "10.0.0.5", "192.168.1.20", "192.0.2.2", "::ffff:10.0.0.1", "fe80::1", "0.0.0.0" })
        {
            access.IsClientAllowed(new IPEndPoint(IPAddress.Parse(ip), 50000)).Should().BeFalse(ip);
        }

        access.IsClientAllowed(null).Should().BeFalse("an unknown peer is not known to be local");
        new AccessControl().IsClientAllowed(new IPEndPoint(IPAddress.Parse("10.0.0.5"), 1)).Should().BeTrue("a server on all interfaces serves the network");
    }

    [Test]
    public async Task A_loopback_server_refuses_a_client_on_another_address_of_this_machine_whatever_its_host()
    {
        // A second address of this machine stands in for a LAN client: the packets still only travel over loopback.
        IPAddress? local = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        if (local is null || OperatingSystem.IsWindows())
        {
            // No second address to send from here: the unit test above covers the check itself.
            TestContext.Progress.WriteLine("loopback client guard: no non-loopback IPv4 address on this machine to send from");
            return;
        }

        var seen = new List<string>();
        foreach (string host in new[] { "localhost", "127.0.0.1" })
        {
            using var tcp = new System.Net.Sockets.TcpClient(new IPEndPoint(local, 0));
            await tcp.ConnectAsync(IPAddress.Loopback, server.Url.Port);
            byte[] request = Encoding.ASCII.GetBytes($"GET /api/stats HTTP/1.1\r\nHost: {host}:{server.Url.Port}\r\nConnection: close\r\n\r\n");
            await tcp.GetStream().WriteAsync(request);
            string text = await new StreamReader(tcp.GetStream()).ReadToEndAsync().WaitAsync(TestServers.Bound);
            text.Should().StartWith("HTTP/1.1 403", $"a client at {local} is refused even with Host {host}");
            text.Should().Contain("answers only clients on this machine");
            seen.Add($"from {local} with Host {host}: {text[..12]}");
        }

        using HttpClient client = TestServers.Client(server);
        (await client.GetAsync("/api/stats")).StatusCode.Should().Be(HttpStatusCode.OK, "a loopback client is still served");
        TestContext.Progress.WriteLine("loopback client guard: " + string.Join("; ", seen));
    }

    [Test]
    public void Allowing_hosts_on_a_loopback_server_throws_naming_the_conflict()
    {
        using var server = new StatsServer("localhost:0");

        server.Invoking(s => s.AllowHosts("stats.example.com")).Should().Throw<InvalidOperationException>()
            .WithMessage("AllowHosts cannot be used on a loopback server*listen on all interfaces (':8080')*");
    }

    [Test]
    public void A_missing_token_or_password_says_what_to_set()
    {
        using var server = new StatsServer("127.0.0.1:0");

        server.Invoking(s => s.RequireBearerToken(Environment.GetEnvironmentVariable("STATSHANDLER_TEST_UNSET_VARIABLE")!))
            .Should().Throw<ArgumentNullException>().WithParameterName("token")
            .WithMessage("No bearer token was given (null)*environment variable*STATS_TOKEN*");
        server.Invoking(s => s.RequireBasicAuth("ops", null!)).Should().Throw<ArgumentNullException>()
            .WithParameterName("password").WithMessage("No basic-auth password was given*");
    }

    [Test]
    public async Task An_anonymous_route_stays_open_on_a_server_that_requires_a_token()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats")
            .HandleFunc("/healthz", (context, ct) => StatsResponse.WriteTextAsync(context, 200, "ok\n", ct))
            .RequireBearerToken(Token)
            .Authorize(_ => false)
            .AllowAnonymous("/healthz"));
        using HttpClient client = TestServers.Client(server);

        (await client.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.GetAsync("/healthz/")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.GetAsync("/api/stats")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await client.GetAsync("/unknown")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "an anonymous client cannot map the other routes");
        server.ToString().Should().NotContain(Token);
    }

    [Test]
    public void Anonymous_access_needs_a_mounted_route()
    {
        using var server = new StatsServer("127.0.0.1:0");

        server.Invoking(s => s.AllowAnonymous("/healthz")).Should().Throw<InvalidOperationException>()
            .WithMessage("Cannot allow anonymous access to '/healthz': nothing is mounted there*");
        server.Invoking(s => s.AllowAnonymous("healthz")).Should().Throw<ArgumentException>();
    }

    [Test]
    public async Task A_browser_with_basic_auth_and_a_scraper_with_a_token_share_one_server()
    {
        // The dashboard behind auth: a browser cannot send a bearer token, but it asks for basic credentials once and
        // then sends them with the page's own polls, while Prometheus keeps its token.
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats")
            .Handle("/debug/dashboard", new DashboardHandler(new DashboardHandlerOptions { StatsUrl = "/api/stats" }))
            .RequireBearerToken(Token)
            .RequireBasicAuth("ops", "p@ss"));
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage page = await client.GetAsync("/debug/dashboard");
        page.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        page.Headers.WwwAuthenticate.ToString().Should().Contain("Basic realm=\"StatsHandler\"", "so the browser shows its login prompt");
        (await SendAsync(client, "Basic", Base64("ops:p@ss"), "/debug/dashboard")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await SendAsync(client, "Basic", Base64("ops:p@ss"))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await SendAsync(client, "Bearer", Token)).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Test]
    public async Task With_both_schemes_the_basic_challenge_comes_first_and_each_is_its_own_header_value()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats").RequireBearerToken(Token).RequireBasicAuth("ops", "p@ss"));

        RawResponse refused = await TestServers.SendRawAsync(server.Url, "GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");

        refused.Status.Should().Be(401);
        string[] lines = refused.HeaderLines
            .Where(h => h.Name.Equals("WWW-Authenticate", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToArray();
        string basic = "Basic realm=\"StatsHandler\", charset=\"UTF-8\"";
        string bearer = "Bearer realm=\"StatsHandler\"";
        if (OperatingSystem.IsWindows())
        {
            // http.sys sends each value of WWW-Authenticate on a line of its own.
            lines.Should().Equal(basic, bearer);
        }
        else
        {
            // The managed HttpListener joins a header's values into one line whatever the caller does; browsers read
            // the first challenge of a line, so Basic leads (headless Chromium shows the page: see the browser test).
            lines.Should().Equal($"{basic}, {bearer}");
        }

        using HttpClient client = TestServers.Client(server);
        using HttpResponseMessage parsed = await client.GetAsync("/api/stats");
        parsed.Headers.WwwAuthenticate.Select(c => c.Scheme).Should().Equal("Basic", "Bearer");
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string scheme, string value, string path = "/api/stats")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue(scheme, value);
        return await client.SendAsync(request);
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
