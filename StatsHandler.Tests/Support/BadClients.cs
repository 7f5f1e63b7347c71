using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using StatsHandler.Tests.Reliability;

namespace StatsHandler.Tests.Support;

/// <summary>
/// What an adversarial or broken client does to a server while it is under load: malformed requests, bodiless POSTs,
/// and slow clients that open a connection, send half a request and hold it. Bounded: it stops on its token, and every
/// socket has a deadline.
/// </summary>
internal static class BadClients
{
    /// <summary>Runs <paramref name="malformed"/> malformed or bodiless requests and <paramref name="slow"/> slow clients, then waits for <paramref name="stop"/>.</summary>
    /// <returns>How each request ended (status code, "closed", "reset", "timeout").</returns>
    public static async Task<ConcurrentDictionary<string, int>> RunAsync(int port, int malformed, int slow, CancellationToken stop)
    {
        var outcomes = new ConcurrentDictionary<string, int>();
        List<byte[]> payloads = Payloads(port, malformed);
        var slowClients = new List<TcpClient>();
        try
        {
            for (int i = 0; i < slow; i++)
            {
                var tcp = new TcpClient();
                slowClients.Add(tcp);
                await tcp.ConnectAsync(IPAddress.Loopback, port, stop);
                await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: "), stop);
            }

            int next = -1;
            Task[] workers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < payloads.Count && !stop.IsCancellationRequested)
                {
                    string outcome = await HostileInputTests.SendAndReadStatusAsync(port, payloads[i]);
                    outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
                }
            })).ToArray();
            await Task.WhenAll(workers);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException)
        {
            // The server stopped under the bad clients, which is the point: what they saw is in the outcomes.
            outcomes.AddOrUpdate("cut", 1, (_, n) => n + 1);
        }
        finally
        {
            foreach (TcpClient tcp in slowClients)
            {
                tcp.Dispose();
            }
        }

        return outcomes;
    }

    /// <summary>Malformed requests (no huge ones: this runs many times) mixed with bodiless POSTs and PUTs.</summary>
    private static List<byte[]> Payloads(int port, int count)
    {
        byte[][] hostile = HostileInputTests.HostileRequests(port).Where(c => c.Payload.Length < 16 * 1024).Select(c => c.Payload).ToArray();
        string host = $"Host: 127.0.0.1:{port}\r\n";
        byte[][] bodiless =
        [
            Encoding.ASCII.GetBytes($"POST /api/stats HTTP/1.1\r\n{host}Connection: close\r\n\r\n"),
            Encoding.ASCII.GetBytes($"PUT /api/stats HTTP/1.1\r\n{host}Connection: close\r\n\r\n"),
        ];
        var random = new Random(port);
        return Enumerable.Range(0, count)
            .Select(i => i % 3 == 0 ? bodiless[i % 2] : hostile[random.Next(hostile.Length)])
            .ToList();
    }
}
