using System.Collections.Concurrent;
using System.Net;
using System.Text;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests.Reliability;

/// <summary>A client's protocol mistake is not a server error: it must never reach the host's log.</summary>
[Category("Reliability")]
[NonParallelizable]
public class BodilessRequestTests
{
    [Test]
    [CancelAfter(180_000)]
    public async Task A_thousand_bodiless_posts_and_puts_patches_deletes_get_4xx_and_no_error_callback()
    {
        var errors = new ConcurrentQueue<Exception>();
        int disposedResponses = 0;
        void OnFirstChance(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e)
        {
            if (e.Exception is ObjectDisposedException { ObjectName: "System.Net.HttpListenerResponse" })
            {
                Interlocked.Increment(ref disposedResponses);
            }
        }

        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats").OnError(errors.Enqueue));
        int port = server.Url.Port;
        string[] methods = ["POST", "PUT", "PATCH", "DELETE"];
        var outcomes = new ConcurrentDictionary<string, int>();
        AppDomain.CurrentDomain.FirstChanceException += OnFirstChance;
        try
        {
            int next = -1;
            const int Total = 1_000 + 300;
            Task[] workers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < Total)
                {
                    // The first thousand are POSTs like `curl -X POST URL`: no body, no Content-Length.
                    string method = i < 1_000 ? "POST" : methods[i % methods.Length];
                    byte[] request = Encoding.ASCII.GetBytes($"{method} /api/stats HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
                    string status = await HostileInputTests.SendAndReadStatusAsync(port, request);
                    outcomes.AddOrUpdate($"{method} {status}", 1, (_, n) => n + 1);
                }
            })).ToArray();
            await Task.WhenAll(workers);
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= OnFirstChance;
        }

        using HttpClient client = TestServers.Client(server);
        (await client.GetAsync("/api/stats")).StatusCode.Should().Be(HttpStatusCode.OK, "the server is alive afterwards");
        TestContext.Progress.WriteLine(
            $"bodiless requests: {string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}={o.Value}"))}; " +
            $"errors reported {errors.Count}; first-chance ObjectDisposedException(HttpListenerResponse) {disposedResponses}");
        outcomes.Keys.Should().OnlyContain(k => k.EndsWith(" 411") || k.EndsWith(" 405"), "each gets a 4xx: 411 from the listener, 405 (JSON) from us");
        outcomes.Where(o => o.Key.StartsWith("POST ", StringComparison.Ordinal)).Sum(o => o.Value).Should().BeGreaterThanOrEqualTo(1_000);
        errors.Should().BeEmpty("a bodiless POST is the client's mistake, not a server error");
        disposedResponses.Should().Be(0, "the server does not touch a response the listener has already closed");
    }

    [Test]
    public async Task A_patch_without_a_body_gets_our_405_with_a_json_body()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));

        RawResponse response = await TestServers.SendRawAsync(
            server.Url, $"PATCH /api/stats HTTP/1.1\r\nHost: 127.0.0.1:{server.Url.Port}\r\nConnection: close\r\n\r\n");

        response.Status.Should().Be(405);
        response.Headers["Content-Type"].Should().Be("application/json; charset=utf-8");
        response.BodyText.Should().Contain("\"status\":405");
    }
}
