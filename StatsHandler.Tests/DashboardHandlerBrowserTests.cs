using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>
/// Drives the dashboard in Debian's headless Chromium over the DevTools protocol, against real servers: it must load
/// cleanly, draw every chart, poll once a second, and show and clear its banner as the server goes and comes back.
/// </summary>
[NonParallelizable]
public class DashboardHandlerBrowserTests
{
    private static readonly TimeSpan WholeTest = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(20);

    private const string ChartsScript =
        "[...document.querySelectorAll('[data-chart]')].map(e => ({ id: e.dataset.chart, points: +e.dataset.points, " +
        "value: e.querySelector('.value').textContent }))";

    [Test]
    public async Task The_dashboard_draws_every_chart_cleanly_and_shows_a_banner_only_while_the_server_is_down()
    {
        string? executable = HeadlessChromium.FindExecutable();
        if (executable is null)
        {
            Assert.Fail(HeadlessChromium.MissingMessage());
        }

        var total = Stopwatch.StartNew();
        using var whole = new CancellationTokenSource(WholeTest);
        CancellationToken ct = whole.Token;
        string shots = Path.Combine(TestContext.CurrentContext.WorkDirectory, "dashboard-screenshots");
        Directory.CreateDirectory(shots);
        TestContext.Progress.WriteLine($"Dashboard screenshots go to {shots}");

        using var stats = new RuntimeStatsHandler();
        var counting = new CountingHandler(stats);
        var dashboard = new DashboardHandler();
        StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats", counting).Handle("/debug/dashboard", dashboard));
        StatsServer? restarted = null;
        using var churnStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task churn = ChurnAsync(churnStop.Token);
        try
        {
            string origin = server.Url.GetLeftPart(UriPartial.Authority);
            int port = server.Url.Port;
            await using HeadlessChromium chromium = await HeadlessChromium.LaunchAsync(executable!, ct);
            TestContext.Progress.WriteLine($"Chromium up after {total.Elapsed.TotalSeconds:0.0} s");
            CdpPage page = await chromium.NewPageAsync(ct);

            // Everything that would show as a problem in DevTools, with the phase it happened in.
            var phase = new StrongBox<int>((int)Phase.Healthy); // read by the DevTools receive loop
            var problems = new ConcurrentQueue<Problem>();
            var urls = new ConcurrentDictionary<string, string>();
            var requested = new ConcurrentQueue<string>();
            chromium.Client.EventReceived += e =>
            {
                if (e.SessionId == page.SessionId)
                {
                    Classify(e, origin, (Phase)Volatile.Read(ref phase.Value), urls, requested, problems);
                }
            };

            foreach (string domain in new[] { "Runtime", "Log", "Network", "Page" })
            {
                await page.SendAsync($"{domain}.enable", cancellationToken: ct);
            }

            // The watch must see a console error, or "no problems" below would prove nothing.
            await page.EvaluateAsync("console.error('statshandler probe')", ct);
            await Poll.UntilAsync(
                _ => Task.FromResult(problems.Any(p => p.Description.Contains("statshandler probe", StringComparison.Ordinal))),
                seen => seen,
                Step,
                "the probe console.error to be seen",
                ct);
            problems.Clear();

            await SetViewportAsync(page, 1280, 800, mobile: false, ct);
            await SetColorSchemeAsync(page, "light", ct);
            JsonElement navigated = await page.SendAsync("Page.navigate", new JsonObject { ["url"] = $"{origin}/debug/dashboard" }, ct);
            navigated.TryGetProperty("errorText", out JsonElement navigationError).Should().BeFalse(
                $"the page must load, got {(navigationError.ValueKind == JsonValueKind.String ? navigationError.GetString() : "")}");

            // Every chart draws at least three points after a few polls.
            JsonElement charts = await Poll.UntilAsync(
                c => page.EvaluateAsync(ChartsScript, c),
                v => v.GetArrayLength() == 9 && v.EnumerateArray().All(x => x.GetProperty("points").GetInt32() >= 3),
                Step,
                "all nine charts to draw at least three points",
                ct);
            TestContext.Progress.WriteLine($"Every chart has >= 3 points after {total.Elapsed.TotalSeconds:0.0} s: {charts.GetRawText()}");
            charts.EnumerateArray().Select(x => x.GetProperty("id").GetString()).Should().Equal(
                "heap", "alloc", "gc", "pause", "cpu", "mem", "threads", "locks", "exc");

            // Twenty polls give the request-rate check a window, and the screenshots some history.
            await Poll.UntilAsync(_ => Task.FromResult(counting.Count), n => n >= 20, TimeSpan.FromSeconds(40), "twenty polls", ct);

            // About one JSON request a second, never two at once.
            TimeSpan[] arrivals = counting.Arrivals;
            double window = (arrivals[^1] - arrivals[0]).TotalSeconds;
            double perSecond = (arrivals.Length - 1) / window;
            double shortestGap = arrivals.Zip(arrivals.Skip(1), (a, b) => (b - a).TotalSeconds).Min();
            TestContext.Progress.WriteLine(
                $"{arrivals.Length} JSON requests over {window:0.0} s: {perSecond:0.00}/s, shortest gap {shortestGap:0.00} s, " +
                $"at most {counting.MaxInFlight} at once");
            // Never more than one a second; fewer is allowed, because a busy machine delays Chromium's timers and the
            // page skips a tick while a poll is still outstanding.
            perSecond.Should().BeInRange(0.5, 1.1, "the page polls once a second");
            shortestGap.Should().BeGreaterThan(0.5, "polls are a second apart");
            counting.MaxInFlight.Should().Be(1, "the page never sends a poll while one is outstanding");

            charts = await page.EvaluateAsync(ChartsScript, ct);
            TestContext.Progress.WriteLine($"After {counting.Count} polls: {charts.GetRawText()}");
            var values = charts.EnumerateArray().ToDictionary(x => x.GetProperty("id").GetString()!, x => x.GetProperty("value").GetString()!);
            const string Bytes = @"\d+(\.\d+)? (B|KiB|MiB|GiB|TiB)";
            values["heap"].Should().MatchRegex($"^{Bytes}$");
            values["alloc"].Should().MatchRegex($"^{Bytes}/s$");
            values["gc"].Should().MatchRegex(@"^\d+(\.\d+)? /s$");
            values["pause"].Should().MatchRegex(@"^\d+(\.\d+)? ms/s$");
            values["cpu"].Should().MatchRegex(@"^\d+(\.\d+)? %$");
            values["mem"].Should().MatchRegex($"^{Bytes}$");
            values["threads"].Should().MatchRegex(@"^\d+ threads · \d+ queued$");
            values["locks"].Should().MatchRegex(@"^\d+(\.\d+)? /s$");
            values["exc"].Should().MatchRegex(@"^\d+(\.\d+)? /s$");

            // The churn throws ten exceptions a second; the page derives the rate from exception_num.
            await Poll.UntilAsync(
                c => page.EvaluateAsync("parseFloat(document.querySelector('[data-chart=exc] .value').textContent)", c),
                v => v.ValueKind == JsonValueKind.Number && v.GetDouble() > 0,
                Step,
                "a non-zero exception rate",
                ct);

            string identity = (await page.EvaluateAsync("document.getElementById('identity').textContent", ct)).GetString()!;
            identity.Should().Contain($"pid {Environment.ProcessId}").And.Contain(".NET").And.Contain("GC ").And.Contain("up ");

            // The hover read-out names the time and every series with its unit.
            string tip = await HoverAsync(page, "[data-chart=heap]", 0.8, "total:", ct);
            tip.Should().MatchRegex(@"^\d\d:\d\d:\d\d.*gen0: .*B.*gen2: .*LOH: .*total: .*B");

            string light = Path.Combine(shots, "dashboard-1280x800-light.png");
            await page.ScreenshotAsync(light, ct);
            await MoveMouseAsync(page, 2, 2, ct);
            string lightBackground = (await page.EvaluateAsync("getComputedStyle(document.body).backgroundColor", ct)).GetString()!;

            // The phone layout: one column, nothing wider than the screen.
            await SetViewportAsync(page, 390, 844, mobile: true, ct);
            await Poll.UntilAsync(
                c => page.EvaluateAsync("+document.querySelector('[data-chart=heap] svg').getAttribute('width')", c),
                w => w.ValueKind == JsonValueKind.Number && w.GetDouble() is > 0 and <= 370,
                Step,
                "the charts to redraw for a 390 px phone",
                ct);
            int scrollWidth = (await page.EvaluateAsync("document.documentElement.scrollWidth", ct)).GetInt32();
            scrollWidth.Should().BeLessThanOrEqualTo(390, "nothing may overflow sideways on a phone");
            await page.ScreenshotAsync(Path.Combine(shots, "dashboard-390x844-phone-runtime.png"), ct);
            await SetViewportAsync(page, 1280, 800, mobile: false, ct);

            // Pause stops the polls until Resume; the dark screenshot is taken paused.
            await ClickAsync(page, "#pause", ct);
            TimeSpan pausedAt = counting.Now;
            (await page.EvaluateAsync(
                    "(b => [b.textContent, b.getAttribute('aria-pressed'), document.getElementById('status').textContent].join('|'))" +
                    "(document.getElementById('pause'))",
                    ct))
                .GetString().Should().Be("Resume|true|paused · 0s");

            await UseDarkSchemeAsync(page, ct);
            string darkBackground = (await page.EvaluateAsync("getComputedStyle(document.body).backgroundColor", ct)).GetString()!;
            darkBackground.Should().NotBe(lightBackground, "the page follows prefers-color-scheme");
            Luminance(darkBackground).Should().BeLessThan(0.2, $"a dark theme has a dark background ({darkBackground})");
            Luminance(lightBackground).Should().BeGreaterThan(0.8, $"a light theme has a light background ({lightBackground})");
            await Poll.UntilAsync(
                c => page.EvaluateAsync("document.getElementById('status').textContent", c),
                v => v.GetString() is "paused · 2s" or "paused · 3s",
                Step,
                "the page to count two seconds paused",
                ct);
            await page.ScreenshotAsync(Path.Combine(shots, "dashboard-1280x800-dark.png"), ct);
            TimeSpan resumedAt = counting.Now;
            int beforeResume = counting.Count;
            await ClickAsync(page, "#pause", ct);
            TestContext.Progress.WriteLine($"Paused for {(resumedAt - pausedAt).TotalSeconds:0.0} s");
            counting.Arrivals.Where(t => t > pausedAt + TimeSpan.FromMilliseconds(200) && t < resumedAt).Should().BeEmpty(
                $"no poll goes out while paused ({(resumedAt - pausedAt).TotalSeconds:0.0} s)");
            await Poll.UntilAsync(_ => Task.FromResult(counting.Count), n => n > beforeResume, Step, "a poll after Resume", ct);
            problems.Should().BeEmpty("the page must load and run with no console error and no failed request");

            // Stopping the server shows the banner.
            Volatile.Write(ref phase.Value, (int)Phase.Outage);
            await server.StopAsync(ct);
            JsonElement banner = await Poll.UntilAsync(
                c => page.EvaluateAsync("(b => b.hidden ? '' : b.getAttribute('role') + ': ' + b.textContent)(document.getElementById('banner'))", c),
                v => v.GetString()!.Length > 0,
                Step,
                "the banner after the server stopped",
                ct);
            TestContext.Progress.WriteLine($"Banner after {total.Elapsed.TotalSeconds:0.0} s: {banner.GetString()}");
            banner.GetString().Should().StartWith("alert: ").And.Contain("/api/stats").And.Contain("not answering");
            await page.ScreenshotAsync(Path.Combine(shots, "dashboard-1280x800-banner.png"), ct);

            // Stay down until a poll has really been refused, so the page has met a server that is gone, not just stopping.
            await Poll.UntilAsync(
                _ => Task.FromResult(problems.Count(p => p.Phase == Phase.Outage && p.IsStatsEndpointDown && p.Description.StartsWith("request failed", StringComparison.Ordinal))),
                n => n > 0,
                Step,
                "a poll refused by the stopped server",
                ct);
            (await page.EvaluateAsync("document.getElementById('banner').hidden", ct)).ValueKind.Should().Be(JsonValueKind.False);

            // A new server on the same port clears it, and the charts carry on.
            restarted = new StatsServer($"127.0.0.1:{port}").Handle("/api/stats", counting).Handle("/debug/dashboard", dashboard);
            await restarted.StartAsync(ct);
            await Poll.UntilAsync(
                c => page.EvaluateAsync("document.getElementById('banner').hidden", c),
                v => v.ValueKind == JsonValueKind.True,
                Step,
                "the banner to go once a new server answers",
                ct);
            Volatile.Write(ref phase.Value, (int)Phase.Recovered);
            int before = counting.Count;
            await Poll.UntilAsync(_ => Task.FromResult(counting.Count), n => n >= before + 3, Step, "three polls to the new server", ct);
            (await page.EvaluateAsync("document.getElementById('status').textContent", ct)).GetString().Should().StartWith("live");

            problems.Where(p => p.Phase != Phase.Outage || !p.IsStatsEndpointDown).Should().BeEmpty(
                "while the server is down only the polls may fail, and nothing may fail once it is back");
            requested.Should().Contain(u => u.EndsWith("/debug/dashboard", StringComparison.Ordinal));
            TestContext.Progress.WriteLine(
                $"{problems.Count} expected failures while down; {requested.Count} requests, all to {origin}; " +
                $"whole test {total.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            await churnStop.CancelAsync();
            await churn;
            await server.DisposeAsync();
            if (restarted is not null)
            {
                await restarted.DisposeAsync();
            }
        }

        total.Elapsed.Should().BeLessThan(WholeTest);
    }

    [Test]
    public async Task A_browser_gets_the_page_with_basic_credentials_when_a_bearer_token_is_also_required()
    {
        // Chromium reads only the first challenge of a WWW-Authenticate line, and the managed HttpListener joins both
        // challenges into one line: with Bearer first it showed the 401 body instead of using the credentials.
        using var whole = new CancellationTokenSource(WholeTest);
        CancellationToken ct = whole.Token;
        using var stats = new RuntimeStatsHandler();
        var counting = new CountingHandler(stats);
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats", counting)
            .Handle("/debug/dashboard", new DashboardHandler())
            .RequireBearerToken("scrape-token-0123456789")
            .RequireBasicAuth("ops", "p@ss"));
        var withCredentials = new UriBuilder(new Uri(server.Url, "debug/dashboard")) { UserName = "ops", Password = "p@ss" }.Uri;

        await using DashboardBrowser browser = await DashboardBrowser.OpenAsync(withCredentials, ct);
        CdpPage page = browser.Page;

        JsonElement charts = await Poll.UntilAsync(
            c => page.EvaluateAsync(ChartsScript, c),
            v => v.GetArrayLength() == 9 && v.EnumerateArray().All(x => x.GetProperty("points").GetInt32() >= 2),
            Step,
            "the dashboard drawn from two authenticated polls",
            ct);
        charts.GetArrayLength().Should().Be(9);
        string text = (await page.EvaluateAsync("document.body.innerText", ct)).GetString()!;
        text.Should().NotContain("authentication required");
        counting.Count.Should().BeGreaterThanOrEqualTo(2, "the page's own polls of /api/stats passed the credentials check");
        browser.Exceptions.Should().BeEmpty();
    }

    [Test]
    public async Task The_page_derives_counter_rates_draws_the_limit_and_gen2_marks_and_starts_over_for_a_new_process()
    {
        using var whole = new CancellationTokenSource(WholeTest);
        CancellationToken ct = whole.Token;

        // A scripted endpoint: every answer is exactly two seconds after the previous one on the server's clock, with
        // counters that grow by fixed steps, so the page's numbers are known in advance.
        var script = new ScriptedStats();
        await using StatsServer server = await TestServers.StartAsync(s => s
            .HandleFunc("/api/stats", script.ServeAsync)
            .Handle("/debug/dashboard", new DashboardHandler()));
        await using DashboardBrowser browser = await DashboardBrowser.OpenAsync(new Uri(server.Url, "debug/dashboard"), ct);
        CdpPage page = browser.Page;

        JsonElement charts = await Poll.UntilAsync(
            c => page.EvaluateAsync(ChartsScript, c),
            v => v.GetArrayLength() == 9 && v.EnumerateArray().All(x => x.GetProperty("points").GetInt32() >= 3),
            Step,
            "three points on every chart",
            ct);
        var values = charts.EnumerateArray().ToDictionary(x => x.GetProperty("id").GetString()!, x => x.GetProperty("value").GetString()!);
        values["exc"].Should().Be("5 /s", "exception_num grows by 10 every two seconds");
        values["locks"].Should().Be("2 /s", "lock_contention_num grows by 4 every two seconds");
        values["heap"].Should().Be("10.0 MiB", "1 + 2 + 3 + 4 + 0 MiB, stacked");
        values["alloc"].Should().Be("1.50 MiB/s");
        values["cpu"].Should().Be("42.5 %");
        values["mem"].Should().Be("600 MiB");
        values["threads"].Should().Be("7 threads · 3 queued");
        values["pause"].Should().Be("0.75 ms/s");

        JsonElement drawn = await page.EvaluateAsync(
            "({ limit: document.querySelectorAll('[data-chart=mem] svg line.lim').length, " +
            "limitLabel: document.querySelector('[data-chart=mem] .legend').textContent, " +
            "marks: document.querySelectorAll('[data-chart=gc] svg .mkh').length, gcPoints: +document.querySelector('[data-chart=gc]').dataset.points, " +
            "pauses: document.querySelector('[data-chart=pause] .note').textContent, " +
            "layers: document.querySelectorAll('[data-chart=heap] svg path.ar').length })",
            ct);
        drawn.GetProperty("limit").GetInt32().Should().Be(1, "an 800 MiB limit is drawn against a 600 MiB working set");
        drawn.GetProperty("limitLabel").GetString().Should().EndWith("memory limit");
        drawn.GetProperty("marks").GetInt32().Should().Be(drawn.GetProperty("gcPoints").GetInt32() - 1, "gen2 count grows at every answer after the first");
        drawn.GetProperty("pauses").GetString().Should().Be("recent pauses, newest first: 1.5, 0.25 ms");
        drawn.GetProperty("layers").GetInt32().Should().Be(5, "one stacked layer per generation");

        // A 500 shows the banner with the status; the next good answer clears it.
        script.FailNext = true;
        JsonElement banner = await Poll.UntilAsync(
            c => page.EvaluateAsync("(b => b.hidden ? '' : b.textContent)(document.getElementById('banner'))", c),
            v => v.GetString()!.Length > 0,
            Step,
            "the banner after an HTTP 500",
            ct);
        banner.GetString().Should().Contain("HTTP 500");
        await Poll.UntilAsync(c => page.EvaluateAsync("document.getElementById('banner').hidden", c), v => v.ValueKind == JsonValueKind.True, Step, "the banner to clear", ct);

        // Another process behind the same URL: the old history belongs to it no more.
        int before = (await page.EvaluateAsync("+document.querySelector('[data-chart=heap]').dataset.points", ct)).GetInt32();
        script.Pid = 4242;
        await Poll.UntilAsync(
            c => page.EvaluateAsync("document.getElementById('identity').textContent", c),
            v => v.GetString()!.Contains("pid 4242", StringComparison.Ordinal),
            Step,
            "the new pid in the header",
            ct);
        int after = (await page.EvaluateAsync("+document.querySelector('[data-chart=heap]').dataset.points", ct)).GetInt32();
        after.Should().BeInRange(1, 2, $"the history starts over for a new process (it had {before} points)");
        browser.Exceptions.Should().BeEmpty();
    }

    [Test]
    public async Task The_apps_meters_are_drawn_as_rates_values_and_histogram_quantiles_with_the_top_series_and_a_cap()
    {
        using var whole = new CancellationTokenSource(WholeTest);
        CancellationToken ct = whole.Token;
        var meters = new ScriptedMeters();
        var script = new ScriptedStats { Exports = meters.Write };
        await using StatsServer server = await TestServers.StartAsync(s => s
            .HandleFunc("/api/stats", script.ServeAsync)
            .Handle("/debug/dashboard", new DashboardHandler(new DashboardHandlerOptions { Title = "Job queue" })));
        await using DashboardBrowser browser = await DashboardBrowser.OpenAsync(new Uri(server.Url, "debug/dashboard"), ct);
        CdpPage page = browser.Page;

        JsonElement drawn = await Poll.UntilAsync(
            c => page.EvaluateAsync(MetersScript, c),
            v => v.GetProperty("meters").GetArrayLength() > 0 && v.GetProperty("meters").EnumerateArray().All(m => m.GetProperty("points").GetInt32() >= 3),
            Step,
            "three points on every meter chart",
            ct);
        TestContext.Progress.WriteLine(drawn.GetRawText());
        var charts = drawn.GetProperty("meters").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        charts.Should().HaveCount(24, "the page draws at most 24 instruments");
        charts.Keys.Take(7).Should().Equal("jobs.completed", "cpu.time", "queue.length", "temperature", "cache.size", "connections", "job.duration");
        drawn.GetProperty("capped").GetString().Should().Be(
            "24 instruments drawn; 3 more are in /api/stats: filler.17, filler.18, filler.19");
        drawn.GetProperty("charts").GetInt32().Should().Be(9, "the runtime charts stay as they were");

        // Counters: a rate per second per series, the top five by value, the rest counted.
        charts["jobs.completed"].GetProperty("value").GetString().Should().Be("total 28 job/s", "queues a-g gain 1-7 jobs a second");
        charts["jobs.completed"].GetProperty("legend").GetString().Should().Be(
            "queue=c|queue=d|queue=e|queue=f|queue=g|+2 more");
        charts["jobs.completed"].GetProperty("lines").GetInt32().Should().Be(5);
        charts["jobs.completed"].GetProperty("title").GetString().Should().Be("jobs.completed counter · {job}");
        charts["cpu.time"].GetProperty("value").GetString().Should().Be("0.5 s/s");

        // Up-down counters and gauges: the value, in the instrument's unit.
        charts["queue.length"].GetProperty("value").GetString().Should().Be("12 job");
        charts["queue.length"].GetProperty("legend").GetString().Should().Be("value");
        charts["temperature"].GetProperty("value").GetString().Should().Be("21.5 Cel");
        charts["temperature"].GetProperty("ticks").GetString().Should().Contain("20 Cel", "short units label the axis as ms and % do");
        charts["cache.size"].GetProperty("value").GetString().Should().Be("3.00 MiB");
        charts["connections"].GetProperty("value").GetString().Should().Be("-3");
        charts["connections"].GetProperty("ticks").GetString().Should().StartWith("-3|-2|-1|0|", "an up-down counter may go below zero");

        // Histograms: p50/p90/p99 of each two-second window's 20 observations (ten in (0, 10], ten in (50, 100]).
        charts["job.duration"].GetProperty("legend").GetString().Should().Be("p50|p90|p99");
        charts["job.duration"].GetProperty("value").GetString().Should().Be("p99 99 ms · 10 /s");
        charts["job.duration"].GetProperty("lines").GetInt32().Should().Be(3);
        charts["job.duration"].GetProperty("note").GetString().Should().StartWith("").And.Contain("quantiles estimated from the buckets");
        string tip = await HoverAsync(page, "[data-meter=\"job.duration\"]", 0.95, "mean", ct);
        tip.Should().MatchRegex(@"^\d\d:\d\d:\d\dp50: 10 msp90: 90 msp99: 99 msobserved 10 /s · mean 37.5 ms$");

        // The axis starts at the first point: the gauge's line begins at the plot's left edge.
        drawn.GetProperty("firstX").GetString().Should().Be("M58.0", "the first point sits at the left of the plot, not in a sliver at the right");

        // Published values: numbers as cards with a sparkline, strings in the header; the title names the app.
        drawn.GetProperty("cards").GetString().Should().MatchRegex(@"^queue_depth:\d+:\d+$");
        drawn.GetProperty("identity").GetString().Should().StartWith("build 1.4.2+abc123feature_flag true");
        drawn.GetProperty("h1").GetString().Should().Be("Job queue");
        drawn.GetProperty("title").GetString().Should().Be("Job queue · pid 1234 · StatsHandler dashboard");

        // A series that appears later joins without a reload, and pushes the smallest out of the top five.
        meters.LateSeries = true;
        JsonElement legend = await Poll.UntilAsync(
            c => page.EvaluateAsync("[...document.querySelectorAll('[data-meter=\"jobs.completed\"] .legend > span')].map(e => e.textContent).join('|')", c),
            v => v.GetString()!.Contains("queue=h", StringComparison.Ordinal),
            Step,
            "the late series in the legend",
            ct);
        legend.GetString().Should().Be("queue=d|queue=e|queue=f|queue=g|queue=h|+3 more");
        browser.Exceptions.Should().BeEmpty();
    }

    [Test]
    public async Task A_live_apps_meters_join_the_runtime_charts_in_light_dark_and_phone_screenshots()
    {
        using var whole = new CancellationTokenSource(WholeTest);
        CancellationToken ct = whole.Token;
        string shots = Path.Combine(TestContext.CurrentContext.WorkDirectory, "dashboard-screenshots");
        Directory.CreateDirectory(shots);
        TestContext.Progress.WriteLine($"Dashboard screenshots go to {shots}");

        // A small job-queue app, as the issue that asked for this page tried: jobs done per queue, how long they took,
        // how many wait, busy workers, a version string and a retry count.
        using var meter = new Meter($"JobQueue.{Guid.NewGuid():N}");
        Counter<long> done = meter.CreateCounter<long>("jobs.completed", "{job}", "Jobs finished, by queue.");
        Histogram<double> duration = meter.CreateHistogram<double>(
            "job.duration", "ms", "Time a job takes.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [5, 10, 25, 50, 100, 250, 500, 1000] });
        UpDownCounter<int> queued = meter.CreateUpDownCounter<int>("jobs.queued", "{job}", "Jobs waiting.");
        int busy = 0, retried = 0, depth = 0;
        meter.CreateObservableGauge("workers.busy", () => Volatile.Read(ref busy), "{worker}", "Workers running a job now.");
        await using StatsServer server = await TestServers.StartAsync(s => s
            .Handle("/api/stats")
            .ExportMeters(meter.Name)
            .Publish("app_version", () => "1.4.2")
            .Publish("jobs_retried", () => Volatile.Read(ref retried))
            .Handle("/debug/dashboard", new DashboardHandler(new DashboardHandlerOptions { Title = "Job queue" })));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task churn = ChurnAsync(stop.Token);
        Task work = Task.Run(async () =>
        {
            string[] queues = ["emails", "reports", "thumbnails"];
            using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
            var random = new Random(12);
            int n = 0;
            try
            {
                while (await tick.WaitForNextTickAsync(stop.Token))
                {
                    int q = random.Next(10) switch { < 6 => 0, < 9 => 2, _ => 1 };
                    double ms = Math.Exp(random.NextDouble() * 2 + (q * 1.5) + 1.5 + (0.5 * Math.Sin(++n / 200.0)));
                    done.Add(1, new KeyValuePair<string, object?>("queue", queues[q]));
                    duration.Record(ms);
                    int arrived = random.Next(Math.Sin(n / 150.0) > 0 ? 3 : 2), left = depth + arrived > 0 ? 1 : 0;
                    depth += arrived - left;
                    queued.Add(arrived - left);
                    Volatile.Write(ref busy, 2 + random.Next(3) + (int)(3 * Math.Abs(Math.Sin(n / 120.0))));
                    if (random.Next(40) == 0)
                    {
                        Interlocked.Increment(ref retried);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // The test is over.
            }
        });
        try
        {
            await using DashboardBrowser browser = await DashboardBrowser.OpenAsync(new Uri(server.Url, "debug/dashboard"), ct);
            CdpPage page = browser.Page;
            await SetColorSchemeAsync(page, "light", ct);

            // Twenty answers give the charts some history for the pictures.
            JsonElement drawn = await Poll.UntilAsync(
                c => page.EvaluateAsync(MetersScript, c),
                v => v.GetProperty("meters").GetArrayLength() == 4 && v.GetProperty("meters").EnumerateArray().All(m => m.GetProperty("points").GetInt32() >= 20),
                TimeSpan.FromSeconds(45),
                "twenty points on each of the four meter charts",
                ct);
            TestContext.Progress.WriteLine(drawn.GetRawText());
            var charts = drawn.GetProperty("meters").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
            charts.Keys.Should().Equal("jobs.completed", "job.duration", "jobs.queued", "workers.busy");
            charts["jobs.completed"].GetProperty("legend").GetString()!.Split('|').Should().BeEquivalentTo("queue=emails", "queue=reports", "queue=thumbnails");
            charts["jobs.completed"].GetProperty("value").GetString().Should().MatchRegex(@"^total \d+(\.\d+)? job/s$");
            charts["job.duration"].GetProperty("value").GetString().Should().MatchRegex(@"^p99 \d+(\.\d+)? ms · \d+(\.\d+)? /s$");
            charts["job.duration"].GetProperty("lines").GetInt32().Should().Be(3);
            charts["workers.busy"].GetProperty("value").GetString().Should().MatchRegex(@"^\d+ worker$");
            drawn.GetProperty("cards").GetString().Should().MatchRegex(@"^jobs_retried:\d+:\d+$");
            drawn.GetProperty("identity").GetString().Should().StartWith("app_version 1.4.2");
            drawn.GetProperty("h1").GetString().Should().Be("Job queue");

            // The whole page, light then dark, with the histogram's read-out open.
            int height = (await page.EvaluateAsync("document.documentElement.scrollHeight", ct)).GetInt32();
            await SetViewportAsync(page, 1280, height, mobile: false, ct);
            await HoverAsync(page, "[data-meter=\"job.duration\"]", 0.7, "mean", ct);
            await page.ScreenshotAsync(Path.Combine(shots, "dashboard-1280-light.png"), ct);
            await UseDarkSchemeAsync(page, ct);
            await page.ScreenshotAsync(Path.Combine(shots, "dashboard-1280-dark.png"), ct);

            // A phone, scrolled to the app's metrics: one column, nothing wider than the screen.
            await MoveMouseAsync(page, 2, 2, ct);
            await SetColorSchemeAsync(page, "light", ct);
            await SetViewportAsync(page, 390, 844, mobile: true, ct);
            await Poll.UntilAsync(
                c => page.EvaluateAsync("+document.querySelector('[data-meter] svg').getAttribute('width')", c),
                w => w.ValueKind == JsonValueKind.Number && w.GetDouble() is > 0 and <= 370,
                Step,
                "the meter charts to redraw for a 390 px phone",
                ct);
            (await page.EvaluateAsync("document.documentElement.scrollWidth", ct)).GetInt32().Should().BeLessThanOrEqualTo(390);
            await page.EvaluateAsync("document.getElementById('app').scrollIntoView()", ct);
            await page.ScreenshotAsync(Path.Combine(shots, "dashboard-390x844-phone.png"), ct);
            browser.Exceptions.Should().BeEmpty();
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(churn, work);
        }
    }

    [Test]
    public async Task The_demos_buffer_sizes_are_drawn_as_a_heatmap_of_exponential_buckets_beside_the_quantile_lines()
    {
        using var whole = new CancellationTokenSource(WholeTest);
        CancellationToken ct = whole.Token;
        await using DemoProcess demo = await DemoProcess.StartAsync();
        await using DashboardBrowser browser = await DashboardBrowser.OpenAsync(new Uri(demo.Url, "debug/dashboard"), ct);
        CdpPage page = browser.Page;
        await SetColorSchemeAsync(page, "light", ct);

        // Twenty polls of the demo's 20 buffers a second, uniform from 1,000 to 200,000 bytes.
        const string HeatScript =
            "(() => { const e = document.querySelector('[data-meter=\"demo.buffer.size\"]'); if (!e) return { points: 0 }; " +
            "return { points: +e.dataset.points, cells: +(e.querySelector('.heat').dataset.cells || 0), " +
            "heat: e.querySelector('.heatnote').textContent, note: e.querySelector('.note').textContent, " +
            "lines: e.querySelectorAll('.plot svg path.ln').length, ticks: [...e.querySelectorAll('.heat text.tick')].map(x => x.textContent).join('|') }; })()";
        JsonElement drawn = await Poll.UntilAsync(
            c => page.EvaluateAsync(HeatScript, c),
            v => v.GetProperty("points").GetInt32() >= 20,
            TimeSpan.FromSeconds(45),
            "twenty points on the buffer-size chart",
            ct);
        TestContext.Progress.WriteLine(drawn.GetRawText());

        drawn.GetProperty("lines").GetInt32().Should().Be(3, "p50, p90 and p99 stay drawn");
        drawn.GetProperty("cells").GetInt32().Should().BeGreaterThan(100, "about twenty filled buckets in each of twenty columns");
        drawn.GetProperty("heat").GetString().Should().MatchRegex(@"^distribution between polls: \d+ buckets at scale [0-4] ");
        drawn.GetProperty("note").GetString().Should().Contain("quantiles estimated from the exponential buckets");
        drawn.GetProperty("ticks").GetString().Should().MatchRegex(@"KiB|kB|B", "the rows' range in bytes");

        string shots = Path.Combine(TestContext.CurrentContext.WorkDirectory, "dashboard-screenshots");
        Directory.CreateDirectory(shots);
        int height = (await page.EvaluateAsync("document.documentElement.scrollHeight", ct)).GetInt32();
        await SetViewportAsync(page, 1280, height, mobile: false, ct);
        await page.EvaluateAsync("document.querySelector('[data-meter=\"demo.buffer.size\"]').scrollIntoView()", ct);
        await page.ScreenshotAsync(Path.Combine(shots, "dashboard-demo-heatmap.png"), ct);
        browser.Exceptions.Should().BeEmpty();
    }

    private const string MetersScript =
        "(() => ({ meters: [...document.querySelectorAll('[data-meter]')].map(e => ({ name: e.dataset.meter, points: +e.dataset.points, " +
        "value: e.querySelector('.value').textContent, title: e.querySelector('h2').textContent, " +
        "legend: [...e.querySelectorAll('.legend > span')].map(x => x.textContent).join('|'), " +
        "lines: e.querySelectorAll('svg path.ln').length, note: e.querySelector('.note').textContent, " +
        "ticks: [...e.querySelectorAll('svg text.tick')].map(x => x.textContent).join('|') })), " +
        "charts: document.querySelectorAll('[data-chart]').length, capped: document.getElementById('meters-note')?.textContent, " +
        "firstX: (document.querySelector('[data-meter=\"queue.length\"] svg path.ln') || { getAttribute: () => '' }).getAttribute('d').split(' ')[0], " +
        "cards: [...document.querySelectorAll('[data-published]')].map(e => e.dataset.published + ':' + e.querySelector('.value').textContent + ':' + e.dataset.points).join('|'), " +
        "identity: document.getElementById('identity')?.textContent, h1: document.querySelector('h1')?.textContent, title: document.title }))()";

    /// <summary>
    /// Meters of every kind with known values per answer (two seconds apart): seven queues gaining 1-7 jobs a second,
    /// a histogram gaining ten observations in (0, 10] ms and ten in (50, 100] ms per answer, and 20 filler gauges so
    /// the page's cap of 24 charts is met.
    /// </summary>
    private sealed class ScriptedMeters
    {
        private volatile bool _late;
        private long _lateFrom;

        public bool LateSeries { get => _late; set => _late = value; }

        public void Write(System.Text.Json.Utf8JsonWriter w, long n)
        {
            w.WriteStartArray("meters");
            Instrument(w, "jobs.completed", "counter", "{job}", "Jobs finished.", () =>
            {
                foreach (int i in Enumerable.Range(0, 7))
                {
                    Series(w, "queue", ((char)('a' + i)).ToString(), 2.0 * (i + 1) * n);
                }

                if (_late)
                {
                    long from = Interlocked.CompareExchange(ref _lateFrom, n, 0) is 0 ? n : Interlocked.Read(ref _lateFrom);
                    Series(w, "queue", "h", 100.0 * (n - from + 1));
                }
            });
            Instrument(w, "cpu.time", "observable_counter", "s", "", () => Series(w, null, null, 1.0 * n));
            Instrument(w, "queue.length", "up_down_counter", "{job}", "", () => Series(w, null, null, 12));
            Instrument(w, "temperature", "observable_gauge", "Cel", "", () => Series(w, null, null, 21.5));
            Instrument(w, "cache.size", "gauge", "By", "", () => Series(w, null, null, 3 * 1024 * 1024));
            Instrument(w, "connections", "observable_up_down_counter", "", "", () => Series(w, null, null, -3));
            Instrument(w, "job.duration", "histogram", "ms", "Time a job takes.", () =>
            {
                w.WriteStartObject();
                w.WriteStartObject("tags");
                w.WriteEndObject();
                w.WriteNumber("count", 20 * n);
                w.WriteNumber("sum", 750 * n);
                w.WriteStartArray("bucket_counts");
                foreach (long count in new[] { 10 * n, 0, 10 * n, 0 })
                {
                    w.WriteNumberValue(count);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }, bounds: [10, 50, 100]);
            foreach (int i in Enumerable.Range(0, 20))
            {
                Instrument(w, $"filler.{i:00}", "observable_gauge", "", "", () => Series(w, null, null, i));
            }

            w.WriteEndArray();
            w.WriteStartObject("published");
            w.WriteString("build", "1.4.2+abc123");
            w.WriteNumber("queue_depth", 7 + n);
            w.WriteBoolean("feature_flag", true);
            w.WriteEndObject();
        }

        private static void Instrument(
            System.Text.Json.Utf8JsonWriter w, string name, string kind, string unit, string description, Action series, double[]? bounds = null)
        {
            w.WriteStartObject();
            w.WriteString("meter", "JobQueue");
            w.WriteString("name", name);
            w.WriteString("kind", kind);
            w.WriteString("unit", unit);
            w.WriteString("description", description);
            w.WriteNumber("dropped_series", 0);
            if (bounds is not null)
            {
                w.WriteStartArray("bounds");
                foreach (double bound in bounds)
                {
                    w.WriteNumberValue(bound);
                }

                w.WriteEndArray();
            }

            w.WriteStartArray("series");
            series();
            w.WriteEndArray();
            w.WriteEndObject();
        }

        private static void Series(System.Text.Json.Utf8JsonWriter w, string? tag, string? value, double number)
        {
            w.WriteStartObject();
            w.WriteStartObject("tags");
            if (tag is not null)
            {
                w.WriteString(tag, value);
            }

            w.WriteEndObject();
            w.WriteNumber("value", number);
            w.WriteEndObject();
        }
    }

    /// <summary>Stats JSON with known values: time steps exactly two seconds per answer, counters by fixed amounts.</summary>
    private sealed class ScriptedStats
    {
        private const long MiB = 1024 * 1024;
        private readonly long _start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        private int _answers;
        private volatile bool _failNext;
        private volatile int _pid = 1234;

        public bool FailNext { get => _failNext; set => _failNext = value; }

        public int Pid { get => _pid; set => _pid = value; }

        /// <summary>Writes more keys (<c>meters</c>, <c>published</c>) into answer number n, 1-based.</summary>
        public Action<System.Text.Json.Utf8JsonWriter, long>? Exports { get; init; }

        public Task ServeAsync(System.Net.HttpListenerContext context, CancellationToken ct)
        {
            if (_failNext)
            {
                _failNext = false;
                return StatsResponse.WriteErrorAsync(context, 500, "scripted failure", ct);
            }

            long n = Interlocked.Increment(ref _answers);
            return StatsResponse.WriteJsonAsync(
                context,
                200,
                w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("time", _start + (n * 2_000_000_000));
                    w.WriteString("dotnet_version", ".NET 10.0.0");
                    w.WriteString("os_description", "Scripted OS");
                    w.WriteString("arch", "x64");
                    w.WriteNumber("cpu_num", 4);
                    w.WriteNumber("pid", _pid);
                    w.WriteNumber("uptime_seconds", n);
                    w.WriteBoolean("gc_server", false);
                    w.WriteBoolean("gc_concurrent", true);
                    w.WriteString("gc_latency_mode", "interactive");
                    w.WriteNumber("thread_num", 20);
                    w.WriteNumber("threadpool_thread_num", 7);
                    w.WriteNumber("threadpool_queue_length", 3);
                    w.WriteNumber("threadpool_completed_items", 100 * n);
                    w.WriteNumber("lock_contention_num", 4 * n);
                    w.WriteNumber("cpu_user_seconds", n);
                    w.WriteNumber("cpu_system_seconds", 0);
                    w.WriteNumber("cpu_usage_percent", 42.5);
                    w.WriteNumber("memory_total_alloc", 3 * MiB * n);
                    w.WriteNumber("memory_sys", 600 * MiB);
                    w.WriteNumber("memory_limit", 800 * MiB);
                    w.WriteNumber("alloc_per_second", 1.5 * MiB);
                    w.WriteNumber("heap_gen0", 1 * MiB);
                    w.WriteNumber("heap_gen1", 2 * MiB);
                    w.WriteNumber("heap_gen2", 3 * MiB);
                    w.WriteNumber("heap_loh", 4 * MiB);
                    w.WriteNumber("heap_poh", 0);
                    w.WriteNumber("gc_num", 10 * n);
                    w.WriteNumber("gc_gen2_num", n);
                    w.WriteNumber("gc_per_second", 10);
                    w.WriteNumber("gc_pause_per_second", 0.75);
                    w.WriteStartArray("gc_pause");
                    w.WriteNumberValue(1.5);
                    w.WriteNumberValue(0.25);
                    w.WriteEndArray();
                    w.WriteNumber("exception_num", 10 * n);
                    Exports?.Invoke(w, n);
                    w.WriteEndObject();
                },
                cancellationToken: ct);
        }
    }

    private enum Phase
    {
        Healthy,
        Outage,
        Recovered,
    }

    private sealed record Problem(Phase Phase, string Description, bool IsStatsEndpointDown)
    {
        public override string ToString() => $"[{Phase}] {Description}";
    }

    private static void Classify(
        CdpEvent e,
        string origin,
        Phase phase,
        ConcurrentDictionary<string, string> urls,
        ConcurrentQueue<string> requested,
        ConcurrentQueue<Problem> problems)
    {
        JsonElement p = e.Params;
        bool IsStats(string url) => url.StartsWith(origin + "/api/stats", StringComparison.Ordinal);
        switch (e.Method)
        {
            case "Network.requestWillBeSent":
                string url = p.GetProperty("request").GetProperty("url").GetString()!;
                urls[p.GetProperty("requestId").GetString()!] = url;
                requested.Enqueue(url);
                if (!url.StartsWith(origin + "/", StringComparison.Ordinal) && !url.StartsWith("data:", StringComparison.Ordinal))
                {
                    problems.Enqueue(new Problem(phase, $"request outside the server's origin: {url}", false));
                }

                break;
            case "Network.loadingFailed":
                string failed = urls.GetValueOrDefault(p.GetProperty("requestId").GetString()!, "?");
                problems.Enqueue(new Problem(phase, $"request failed: {failed} {p.GetProperty("errorText").GetString()}", IsStats(failed)));
                TestContext.Progress.WriteLine($"  [{phase}] request failed: {failed} {p.GetProperty("errorText").GetString()}");
                break;
            case "Network.responseReceived":
                JsonElement response = p.GetProperty("response");
                int status = response.GetProperty("status").GetInt32();
                string answered = response.GetProperty("url").GetString()!;
                if (phase != Phase.Healthy)
                {
                    TestContext.Progress.WriteLine(
                        $"  [{phase}] HTTP {status} for {answered}, Content-Length " +
                        (response.GetProperty("headers").TryGetProperty("Content-Length", out JsonElement cl) ? cl.GetString() : "none"));
                }

                if (status >= 400)
                {
                    problems.Enqueue(new Problem(phase, $"HTTP {status} for {answered}", IsStats(answered)));
                }

                break;
            case "Runtime.exceptionThrown":
                problems.Enqueue(new Problem(phase, $"script exception: {p.GetProperty("exceptionDetails").GetRawText()}", false));
                break;
            case "Runtime.consoleAPICalled" when p.GetProperty("type").GetString() is "error" or "assert":
                problems.Enqueue(new Problem(phase, $"console.{p.GetProperty("type").GetString()}: {p.GetProperty("args").GetRawText()}", false));
                break;
            case "Log.entryAdded" when p.GetProperty("entry").GetProperty("level").GetString() == "error":
                JsonElement entry = p.GetProperty("entry");
                string logged = entry.TryGetProperty("url", out JsonElement u) ? u.GetString()! : "";
                problems.Enqueue(new Problem(
                    phase,
                    $"log error ({entry.GetProperty("source").GetString()}): {entry.GetProperty("text").GetString()} {logged}",
                    entry.GetProperty("source").GetString() == "network" && IsStats(logged)));
                break;
        }
    }

    private static Task<JsonElement> SetViewportAsync(CdpPage page, int width, int height, bool mobile, CancellationToken ct) =>
        page.SendAsync(
            "Emulation.setDeviceMetricsOverride",
            new JsonObject { ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = mobile ? 2 : 1, ["mobile"] = mobile },
            ct);

    private static async Task UseDarkSchemeAsync(CdpPage page, CancellationToken ct)
    {
        await SetColorSchemeAsync(page, "dark", ct);
        await Poll.UntilAsync(
            c => page.EvaluateAsync("matchMedia('(prefers-color-scheme: dark)').matches", c),
            v => v.ValueKind == JsonValueKind.True,
            Step,
            "the dark colour scheme",
            ct);
    }

    private static Task<JsonElement> SetColorSchemeAsync(CdpPage page, string scheme, CancellationToken ct) =>
        page.SendAsync(
            "Emulation.setEmulatedMedia",
            new JsonObject { ["features"] = new JsonArray(new JsonObject { ["name"] = "prefers-color-scheme", ["value"] = scheme }) },
            ct);

    private static async Task ClickAsync(CdpPage page, string selector, CancellationToken ct)
    {
        JsonElement at = await page.EvaluateAsync(
            $"(r => ({{ x: r.left + r.width / 2, y: r.top + r.height / 2 }}))(document.querySelector('{selector}').getBoundingClientRect())",
            ct);
        foreach (string type in new[] { "mousePressed", "mouseReleased" })
        {
            await page.SendAsync(
                "Input.dispatchMouseEvent",
                new JsonObject
                {
                    ["type"] = type, ["x"] = at.GetProperty("x").GetDouble(), ["y"] = at.GetProperty("y").GetDouble(),
                    ["button"] = "left", ["clickCount"] = 1,
                },
                ct);
        }
    }

    /// <summary>
    /// Scrolls the card into view, points at <paramref name="across"/> of its plot's width and returns the hover
    /// read-out once it contains <paramref name="expected"/>.
    /// </summary>
    private static async Task<string> HoverAsync(CdpPage page, string card, double across, string expected, CancellationToken ct)
    {
        JsonElement at = await page.EvaluateAsync(
            "(e => { e.scrollIntoView({ block: 'nearest' }); const r = e.getBoundingClientRect(); " +
            $"return {{ x: r.left + r.width * {across.ToString(CultureInfo.InvariantCulture)}, y: r.top + r.height / 2 }}; }})" +
            $"(document.querySelector('{card} .plot'))",
            ct);
        await MoveMouseAsync(page, at.GetProperty("x").GetDouble(), at.GetProperty("y").GetDouble(), ct);
        JsonElement tip = await Poll.UntilAsync(
            c => page.EvaluateAsync($"(t => t.hidden ? '' : t.textContent)(document.querySelector('{card} .tip'))", c),
            v => v.GetString()!.Contains(expected, StringComparison.Ordinal),
            Step,
            $"the hover read-out of {card}",
            ct);
        return tip.GetString()!;
    }

    private static Task<JsonElement> MoveMouseAsync(CdpPage page, double x, double y, CancellationToken ct) =>
        page.SendAsync("Input.dispatchMouseEvent", new JsonObject { ["type"] = "mouseMoved", ["x"] = x, ["y"] = y }, ct);

    /// <summary>Relative luminance, 0-1, of a CSS <c>rgb(r, g, b)</c> colour.</summary>
    private static double Luminance(string rgb)
    {
        double[] c = Regex.Matches(rgb, @"\d+").Take(3).Select(m => double.Parse(m.Value, CultureInfo.InvariantCulture) / 255).ToArray();
        return (0.2126 * c[0]) + (0.7152 * c[1]) + (0.0722 * c[2]);
    }

    /// <summary>
    /// Gives the charts something to show: allocations, ten caught exceptions a second, a collection a second and a
    /// full one every five seconds (so the heap chart has sizes and the GC chart gen2 markers).
    /// </summary>
    private static async Task ChurnAsync(CancellationToken ct)
    {
        var keep = new List<byte[]>();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        int ticks = 0;
        try
        {
            while (await tick.WaitForNextTickAsync(ct))
            {
                if (++ticks % 10 == 0)
                {
                    GC.Collect(ticks % 50 == 0 ? 2 : 0);
                }

                keep.Add(new byte[Random.Shared.Next(1_000, 100_000)]);
                if (keep.Count > 100)
                {
                    keep.RemoveRange(0, 50);
                }

                try
                {
                    throw new InvalidOperationException("dashboard test churn");
                }
                catch (InvalidOperationException)
                {
                    // Counted as a first-chance exception by the stats handler, which is the point.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The test is over.
        }
    }
}
