using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace StatsHandler.Tests.Support;

/// <summary>Starts servers on a free loopback port and talks to them over real HTTP.</summary>
internal static class TestServers
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>Creates a server on 127.0.0.1 with any free port, lets the test mount handlers, and starts it.</summary>
    public static async Task<StatsServer> StartAsync(Action<StatsServer> configure, string address = "127.0.0.1:0")
    {
        var server = new StatsServer(address);
        try
        {
            configure(server);
            await server.StartAsync().WaitAsync(Bound);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    public static HttpClient Client(StatsServer server) => new() { BaseAddress = server.Url, Timeout = Bound };

    public static async Task<JsonDocument> GetJsonAsync(HttpClient client, string path)
    {
        using HttpResponseMessage response = await client.GetAsync(path);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
    }

    /// <summary>
    /// Sends raw bytes and reads until the server closes the connection (send <c>Connection: close</c>), so bytes
    /// sent after the declared body show up as <see cref="RawResponse.TrailingBytes"/>.
    /// </summary>
    public static async Task<RawResponse> SendRawAsync(Uri baseUrl, byte[] request, bool head = false)
    {
        using var cts = new CancellationTokenSource(Bound);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, baseUrl.Port, cts.Token);
        NetworkStream stream = tcp.GetStream();
        await stream.WriteAsync(request, cts.Token);
        using var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            int n;
            try
            {
                n = await stream.ReadAsync(buffer, cts.Token);
            }
            catch (IOException)
            {
                break;
            }

            if (n == 0)
            {
                break;
            }

            received.Write(buffer, 0, n);
        }

        return RawResponse.TryParse(received.ToArray(), out RawResponse? response, head)
            ? response!
            : throw new InvalidOperationException($"Incomplete response: {Encoding.Latin1.GetString(received.ToArray())}");
    }

    public static Task<RawResponse> SendRawAsync(Uri baseUrl, string request, bool head = false) =>
        SendRawAsync(baseUrl, Encoding.Latin1.GetBytes(request), head);
}

/// <summary>An HTTP/1.1 response read off a socket: status, headers and exactly Content-Length body bytes.</summary>
internal sealed class RawResponse
{
    private RawResponse(int status, Dictionary<string, string> headers, List<(string Name, string Value)> headerLines, byte[] body, int trailingBytes)
    {
        Status = status;
        Headers = headers;
        HeaderLines = headerLines;
        Body = body;
        TrailingBytes = trailingBytes;
    }

    public int Status { get; }

    /// <summary>Each header by name; a name sent on several lines keeps its last line (see <see cref="HeaderLines"/>).</summary>
    public Dictionary<string, string> Headers { get; }

    /// <summary>Every header line in the order sent, so a header repeated on two lines shows twice.</summary>
    public IReadOnlyList<(string Name, string Value)> HeaderLines { get; }

    public byte[] Body { get; }

    /// <summary>Bytes after the declared body: a HEAD answer that leaks its body shows here.</summary>
    public int TrailingBytes { get; }

    public string BodyText => Encoding.UTF8.GetString(Body);

    /// <summary>Parses a response whose head is complete; for HEAD the caller expects no body at all.</summary>
    public static bool TryParse(byte[] data, out RawResponse? response, bool head = false)
    {
        response = null;
        int end = IndexOf(data, "\r\n\r\n"u8);
        if (end < 0)
        {
            return false;
        }

        string[] lines = Encoding.Latin1.GetString(data, 0, end).Split("\r\n");
        int status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var headerLines = new List<(string Name, string Value)>();
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            headerLines.Add((line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }

        int bodyStart = end + 4;
        int length = headers.TryGetValue("Content-Length", out string? cl) ? int.Parse(cl, System.Globalization.CultureInfo.InvariantCulture) : 0;
        if (head)
        {
            response = new RawResponse(status, headers, headerLines, [], data.Length - bodyStart);
            return true;
        }

        if (data.Length - bodyStart < length)
        {
            return false;
        }

        response = new RawResponse(status, headers, headerLines, data[bodyStart..(bodyStart + length)], data.Length - bodyStart - length);
        return true;
    }

    private static int IndexOf(byte[] data, ReadOnlySpan<byte> pattern) => data.AsSpan().IndexOf(pattern);
}
