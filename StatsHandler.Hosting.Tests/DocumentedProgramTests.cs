using System.Net;
using System.Text.RegularExpressions;
using StatsHandler.Hosting.Tests.Support;
using StatsHandler.Tests.Support;

namespace StatsHandler.Hosting.Tests;

/// <summary>
/// The README's programs run as a user runs them, each in a process of its own built from the block itself: the
/// console example drains on SIGTERM as on Ctrl+C, and the worker ends a bad setting with its message and exit code 1.
/// </summary>
[NonParallelizable]
[Platform("Linux,MacOsX")]
public partial class DocumentedProgramTests
{
    private const int SigTerm = 15;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Test]
    [CancelAfter(180_000)]
    public async Task The_readme_json_example_drains_requests_in_flight_and_exits_0_on_sigterm_every_time()
    {
        // The block as printed, on a free port, with a slow route so that requests are surely in flight at the signal.
        Snippet example = ReadmeBlock(s => s.Code.Contains("new StatsServer(\"localhost:8080\").Handle(\"/api/stats\");", StringComparison.Ordinal));
        string code = example.Code
            .Replace("\"localhost:8080\"", "\"127.0.0.1:0\"", StringComparison.Ordinal)
            .Replace(
                ".Handle(\"/api/stats\");",
                ".Handle(\"/api/stats\").HandleFunc(\"/slow\", async (c, ct) => { Console.WriteLine(\"slow started\"); " +
                "await Task.Delay(1500, ct); await StatsResponse.WriteTextAsync(c, 200, \"done\\n\", ct); });",
                StringComparison.Ordinal);
        string dll = SnippetCompiler.Emit(example with { Code = code }, "snippet-readme-json");

        var lines = new List<string>();
        for (int cycle = 1; cycle <= 3; cycle++)
        {
            await using SnippetProcess app = SnippetProcess.Start(dll);
            Uri stats = new(await Poll.UntilAsync(
                _ => Task.FromResult(app.Lines.Select(l => ServingLine().Match(l)).FirstOrDefault(m => m.Success)?.Groups[1].Value ?? string.Empty),
                url => url.Length > 0,
                Bound,
                "the example's 'Serving' line",
                CancellationToken.None));
            var root = new Uri(stats, "/");

            // Kept-alive load on /api/stats, and four slow requests that are running when the signal arrives.
            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 8 };
            using var client = new HttpClient(handler) { BaseAddress = root, Timeout = Bound };
            using var stopLoad = new CancellationTokenSource();
            int ok = 0;
            Task[] load = [.. Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                while (!stopLoad.IsCancellationRequested)
                {
                    try
                    {
                        using HttpResponseMessage r = await client.GetAsync("api/stats", stopLoad.Token);
                        if (r.StatusCode == HttpStatusCode.OK)
                        {
                            Interlocked.Increment(ref ok);
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
                    {
                        // Refused once the stop began: new requests are not in flight.
                    }
                }
            }))];
            Task<HttpResponseMessage>[] slow = [.. Enumerable.Range(0, 4).Select(_ => client.GetAsync("slow"))];
            await Poll.UntilAsync(
                _ => Task.FromResult(app.Lines.Count(l => l == "slow started")),
                n => n == 4 && Volatile.Read(ref ok) >= 20,
                Bound,
                "four slow requests in flight and twenty answers under load",
                CancellationToken.None);

            var watch = System.Diagnostics.Stopwatch.StartNew();
            app.Signal(SigTerm);
            bool exited = await app.ExitsWithinAsync(TimeSpan.FromSeconds(10));
            watch.Stop();
            await stopLoad.CancelAsync();
            await Task.WhenAll(load).WaitAsync(Bound);

            exited.Should().BeTrue($"cycle {cycle}: the example exits within 10 s of SIGTERM. Its output:\n{app.Output}");
            app.ExitCode.Should().Be(0, $"cycle {cycle}: a graceful stop is not a failure. Output:\n{app.Output}");
            foreach (Task<HttpResponseMessage> request in slow)
            {
                using HttpResponseMessage response = await request.WaitAsync(Bound);
                response.StatusCode.Should().Be(HttpStatusCode.OK, $"cycle {cycle}: a request in flight at the signal completes");
                (await response.Content.ReadAsStringAsync()).Should().Be("done\n");
            }

            app.Output.Should().NotContain("Unhandled exception");
            lines.Add($"#{cycle}: exit {app.ExitCode} {watch.ElapsedMilliseconds} ms after SIGTERM, 4/4 slow requests 200, {ok} answers under load");
        }

        TestContext.Progress.WriteLine("README JSON example, SIGTERM: " + string.Join("; ", lines));
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task The_readme_worker_ends_a_bad_setting_with_its_message_and_exit_code_1()
    {
        Snippet worker = ReadmeBlock(s => s.Worker);
        string dll = SnippetCompiler.Emit(worker, "snippet-readme-worker");

        await using SnippetProcess app = SnippetProcess.Start(dll, "--StatsServer:Address=8080");
        bool exited = await app.ExitsWithinAsync(Bound);

        exited.Should().BeTrue($"the worker stops on a bad setting. Output:\n{app.Output}");
        app.ExitCode.Should().Be(1, $"a bad setting is a failure, not a crash (134 is SIGABRT). Output:\n{app.Output}");
        app.Output.Should().Contain("Cannot start:").And.Contain("StatsServer:Address").And.Contain("':8080'");
        app.Output.Should().NotContain("Unhandled exception");
        TestContext.Progress.WriteLine(app.Lines.First(l => l.StartsWith("Cannot start:", StringComparison.Ordinal)));
    }

    private static Snippet ReadmeBlock(Func<Snippet, bool> which) =>
        MarkdownSnippets.Read("README.md").Where(which).Should().ContainSingle().Subject;

    [GeneratedRegex(@"Serving (http://\S+)")]
    private static partial Regex ServingLine();
}
