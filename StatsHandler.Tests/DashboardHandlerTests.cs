using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

public class DashboardHandlerTests
{
    [Test]
    public async Task The_page_is_html_with_exact_length_and_a_policy_that_allows_only_its_own_script_and_style()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/debug/dashboard", new DashboardHandler()));
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage response = await client.GetAsync("/debug/dashboard");
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        string html = Encoding.UTF8.GetString(body);
        string csp = string.Join(" ", response.Headers.GetValues("Content-Security-Policy"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("text/html; charset=utf-8");
        response.Content.Headers.ContentLength.Should().Be(body.Length);
        response.Headers.GetValues("X-Content-Type-Options").Should().Equal("nosniff");
        csp.Should().StartWith("default-src 'none'; ")
            .And.Contain("connect-src 'self';")
            .And.Contain("frame-ancestors 'none'")
            .And.NotContain("unsafe-inline")
            .And.NotContain("unsafe-eval");
        Hash(Inline(html, "script")).Should().Be(Source(csp, "script-src"), "the browser runs the script only if its hash is allowed");
        Hash(Inline(html, "style")).Should().Be(Source(csp, "style-src"), "the browser applies the style only if its hash is allowed");
    }

    [Test]
    public async Task The_whole_page_weighs_under_60_KiB()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/debug/dashboard", new DashboardHandler()));
        using HttpClient client = TestServers.Client(server);

        byte[] body = await client.GetByteArrayAsync("/debug/dashboard");

        TestContext.Progress.WriteLine($"Dashboard page: {body.Length} bytes");
        body.Length.Should().BeLessThan(60 * 1024);
    }

    [Test]
    public async Task The_page_names_no_other_origin_and_loads_nothing_but_itself()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/debug/dashboard", new DashboardHandler()));
        using HttpClient client = TestServers.Client(server);

        string html = await client.GetStringAsync("/debug/dashboard");

        Regex.Matches(html, @"[a-z]+://[^\s'""<>)]*").Select(m => m.Value).Distinct()
            .Should().Equal(["http://www.w3.org/2000/svg"], "the SVG namespace is a name, not a request; nothing else may be named");
        html.Should().NotMatchRegex(@"<(script|link|img|iframe)[^>]*\ssrc=", "everything is inline");
        html.Should().NotContain("@import").And.NotContain("@font-face").And.NotContain("url(");
        html.Should().Contain("<link rel=\"icon\" href=\"data:,\">", "without it the browser would ask for /favicon.ico");
    }

    [Test]
    public async Task The_page_polls_the_configured_url_written_safely_into_the_markup()
    {
        var handler = new DashboardHandler(new DashboardHandlerOptions { StatsUrl = "/metrics/json?pp=0&x=\"<b>" });
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/dash", handler));
        using HttpClient client = TestServers.Client(server);

        string html = await client.GetStringAsync("/dash");

        handler.StatsUrl.Should().Be("/metrics/json?pp=0&x=\"<b>");
        html.Should().Contain("<meta name=\"stats-url\" content=\"/metrics/json?pp=0&amp;x=&quot;&lt;b&gt;\">");
        html.Should().NotContain("x=\"<b>");
    }

    [Test]
    public async Task Head_sends_the_headers_and_length_without_the_body()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/debug/dashboard", new DashboardHandler()));

        RawResponse get = await TestServers.SendRawAsync(server.Url, "GET /debug/dashboard HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        RawResponse head = await TestServers.SendRawAsync(server.Url, "HEAD /debug/dashboard HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", head: true);

        head.Status.Should().Be(200);
        head.Headers["Content-Length"].Should().Be(get.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        head.Headers["Content-Security-Policy"].Should().Be(get.Headers["Content-Security-Policy"]);
        head.TrailingBytes.Should().Be(0);
    }

    [Test]
    public async Task Every_request_gets_the_same_bytes()
    {
        var handler = new DashboardHandler();
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/a", handler).Handle("/b", handler));
        using HttpClient client = TestServers.Client(server);

        byte[][] bodies = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => client.GetByteArrayAsync(i % 2 == 0 ? "/a" : "/b/")));

        bodies.Should().AllSatisfy(b => b.Should().Equal(bodies[0]));
    }

    [Test]
    public async Task Other_methods_get_405_from_the_server()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/debug/dashboard", new DashboardHandler()));
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage response = await client.PostAsync("/debug/dashboard", new StringContent(""));

        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
    }

    private static string Inline(string html, string tag)
    {
        MatchCollection matches = Regex.Matches(html, $"<{tag}>(.*?)</{tag}>", RegexOptions.Singleline);
        matches.Should().HaveCount(1, $"the page has exactly one inline <{tag}>");
        return matches[0].Groups[1].Value;
    }

    private static string Hash(string text) => "'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text))) + "'";

    private static string Source(string csp, string directive) =>
        csp.Split(';', StringSplitOptions.TrimEntries).Single(d => d.StartsWith(directive + " ", StringComparison.Ordinal))[(directive.Length + 1)..];
}
