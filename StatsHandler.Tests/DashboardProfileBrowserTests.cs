using System.Collections.Concurrent;
using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>
/// The dashboard's "CPU profile" button in headless Chromium: it asks the profiles mount for a 10-second profile in
/// the JSON form and draws it as a flame graph with the top functions beside it. The profile is a fixed one, served
/// by a route of the test, so every width and percentage is known in advance.
/// </summary>
[NonParallelizable]
public class DashboardProfileBrowserTests
{
    private static readonly TimeSpan WholeTest = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(20);

    private const string FlameScript =
        "(() => ({ frames: +(document.getElementById('flame').dataset.frames || 0), " +
        "note: document.getElementById('flame-note').textContent, " +
        "bars: [...document.querySelectorAll('#flame-graph .fr')].map(e => e.textContent + '@' + e.style.top + ' ' + e.style.left + ' ' + e.style.width), " +
        "titles: [...document.querySelectorAll('#flame-graph .fr')].map(e => e.title), " +
        "tops: [...document.querySelectorAll('#flame-top table')].map(t => t.caption.textContent + ': ' + " +
        "[...t.querySelectorAll('tr')].map(r => r.textContent).join(', ')) }))()";

    [Test]
    public async Task The_cpu_profile_button_draws_the_profile_as_a_flame_graph_with_the_top_functions_and_zooms_on_a_click()
    {
        using var whole = new CancellationTokenSource(WholeTest);
        CancellationToken ct = whole.Token;
        var asked = new ConcurrentQueue<string>();
        int answers = 0;
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats")
            .HandleFunc("/prof/profile", (context, token) =>
            {
                asked.Enqueue(context.Request.Url!.Query);

                // The first click meets a trace in progress; the second gets the profile.
                return Interlocked.Increment(ref answers) == 1
                    ? StatsResponse.WriteErrorAsync(context, 409, "a trace is already running in this process", token)
                    : StatsResponse.WriteAsync(context, 200, StatsResponse.JsonContentType, System.Text.Encoding.UTF8.GetBytes(FakeCollectors.CpuJson), token);
            })
            .Handle("/debug/dashboard", new DashboardHandler(new DashboardHandlerOptions { ProfilesUrl = "/prof" })));
        await using DashboardBrowser browser = await DashboardBrowser.OpenAsync(new Uri(server.Url, "debug/dashboard"), ct);
        CdpPage page = browser.Page;

        await Poll.UntilAsync(c => page.EvaluateAsync("(b => !!b && !b.hidden)(document.getElementById('profile'))", c), v => v.GetBoolean(), Step, "the button to show", ct);
        await page.EvaluateAsync("document.getElementById('profile').click()", ct);
        JsonElement refused = await Poll.UntilAsync(
            c => page.EvaluateAsync(FlameScript, c), v => v.GetProperty("note").GetString()!.StartsWith("No profile", StringComparison.Ordinal), Step, "the refusal", ct);
        refused.GetProperty("note").GetString().Should().Be("No profile: HTTP 409: a trace is already running in this process");
        refused.GetProperty("frames").GetInt32().Should().Be(0);

        await page.EvaluateAsync("document.getElementById('profile').click()", ct);
        JsonElement drawn = await Poll.UntilAsync(
            c => page.EvaluateAsync(FlameScript, c), v => v.GetProperty("frames").GetInt32() > 0, Step, "the flame graph", ct);
        TestContext.Progress.WriteLine(drawn.GetRawText());

        asked.Should().Equal("?seconds=10&format=json", "?seconds=10&format=json");
        Strings(drawn, "bars").Should().Equal(
            "all@0px 0% 100%", "Program.Main@18px 0% 100%", "Busy.Spin@36px 0% 75%", "Blocked.Wait@36px 75% 25%");
        Strings(drawn, "titles").Should().Contain("Busy.Spin (Demo)\ntotal 75.0% (30 samples), self 75.0%");
        Strings(drawn, "tops").Should().Equal(
            "Top by self time: 75.0%Busy.Spin, 25.0%Blocked.Wait",
            "Top by total time: 100.0%Program.Main, 75.0%Busy.Spin, 25.0%Blocked.Wait");
        drawn.GetProperty("note").GetString().Should().StartWith("40 samples over 10 s (each thread every 1 ms), taken at ");

        string shots = Path.Combine(TestContext.CurrentContext.WorkDirectory, "dashboard-screenshots");
        Directory.CreateDirectory(shots);
        await page.ScreenshotAsync(Path.Combine(shots, "dashboard-flame-fixed.png"), ct);

        // A click on a frame zooms to it, its callers kept above; a click on it again zooms back out.
        await page.EvaluateAsync("[...document.querySelectorAll('#flame-graph .fr')].find(e => e.textContent === 'Busy.Spin').click()", ct);
        Strings(await page.EvaluateAsync(FlameScript, ct), "bars").Should().Equal("all@0px 0% 100%", "Program.Main@18px 0% 100%", "Busy.Spin@36px 0% 100%");
        await page.EvaluateAsync("[...document.querySelectorAll('#flame-graph .fr')].find(e => e.textContent === 'Busy.Spin').click()", ct);
        Strings(await page.EvaluateAsync(FlameScript, ct), "bars").Should().Equal(
            ["all@0px 0% 100%", "Program.Main@18px 0% 100%", "Busy.Spin@36px 0% 75%", "Blocked.Wait@36px 75% 25%"],
            "zoomed out to Busy.Spin's caller, whose callees are both drawn");
        browser.Exceptions.Should().BeEmpty();
    }

    [Test]
    public async Task On_the_busy_demo_the_button_draws_a_real_ten_second_profile_with_Busy_Spin_on_top_of_the_self_time()
    {
        using var whole = new CancellationTokenSource(WholeTest);
        CancellationToken ct = whole.Token;
        await using DemoProcess demo = await DemoProcess.StartAsync("127.0.0.1:0", "--busy");
        await using DashboardBrowser browser = await DashboardBrowser.OpenAsync(new Uri(demo.Url, "debug/dashboard"), ct);
        CdpPage page = browser.Page;

        await Poll.UntilAsync(c => page.EvaluateAsync("(b => !!b && !b.hidden)(document.getElementById('profile'))", c), v => v.GetBoolean(), Step, "the button to show", ct);
        await page.EvaluateAsync("document.getElementById('profile').click()", ct);
        JsonElement drawn = await Poll.UntilAsync(
            c => page.EvaluateAsync(FlameScript, c), v => v.GetProperty("frames").GetInt32() > 0, TimeSpan.FromSeconds(60), "the demo's flame graph", ct);
        TestContext.Progress.WriteLine(drawn.GetProperty("note").GetString());
        TestContext.Progress.WriteLine(string.Join("\n", Strings(drawn, "tops")));

        string[] tops = Strings(drawn, "tops");
        tops[0].Should().StartWith("Top by self time: ").And.MatchRegex(@"^Top by self time: [\d.]+%[^,]*Busy\.Spin,", "the spinning thread leads the self time");
        Strings(drawn, "bars").Should().Contain(b => b.StartsWith("Busy.Spin@", StringComparison.Ordinal), "a frame of its own in the graph");

        string shots = Path.Combine(TestContext.CurrentContext.WorkDirectory, "dashboard-screenshots");
        Directory.CreateDirectory(shots);
        await page.ScreenshotAsync(Path.Combine(shots, "dashboard-flame-demo.png"), ct);
        browser.Exceptions.Should().BeEmpty();
    }

    [Test]
    public async Task Without_a_profiles_url_the_button_stays_hidden()
    {
        using var whole = new CancellationTokenSource(WholeTest);
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats").Handle("/debug/dashboard", new DashboardHandler()));
        await using DashboardBrowser browser = await DashboardBrowser.OpenAsync(new Uri(server.Url, "debug/dashboard"), whole.Token);

        // Once the first poll has drawn the header, the script has run past the button's setup.
        await Poll.UntilAsync(
            c => browser.Page.EvaluateAsync("document.getElementById('identity')?.textContent ?? ''", c),
            v => v.GetString()!.Contains("pid ", StringComparison.Ordinal),
            Step,
            "the first poll",
            whole.Token);
        JsonElement state = await browser.Page.EvaluateAsync(
            "({ button: document.getElementById('profile').hidden, section: document.getElementById('flame').hidden, " +
            "shown: getComputedStyle(document.getElementById('profile')).display })",
            whole.Token);

        state.GetProperty("button").GetBoolean().Should().BeTrue();
        state.GetProperty("shown").GetString().Should().Be("none");
        state.GetProperty("section").GetBoolean().Should().BeTrue();
        browser.Exceptions.Should().BeEmpty();
    }

    private static string[] Strings(JsonElement e, string name) =>
        [.. e.GetProperty(name).EnumerateArray().Select(x => x.GetString()!)];
}
