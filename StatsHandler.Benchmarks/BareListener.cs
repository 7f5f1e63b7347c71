using System.Net;

namespace StatsHandler.Benchmarks;

/// <summary>
/// The ceiling for this design: a bare HttpListener answering every request with a fixed body, written the same way
/// StatsHandler writes (exact Content-Length, one write). Run as <c>bare --addr 127.0.0.1:PORT --size BYTES</c>.
/// </summary>
internal static class BareListener
{
    public static async Task<int> RunAsync(string[] args)
    {
        string addr = Option(args, "--addr") ?? "127.0.0.1:18800";
        int size = int.Parse(Option(args, "--size") ?? "1200", System.Globalization.CultureInfo.InvariantCulture);
        using var listener = Start(addr, out _);
        Console.WriteLine($"bare listener on http://{addr}/ serving {size} bytes");
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                stop.Cancel();
            });
        using CancellationTokenRegistration r = stop.Token.Register(listener.Stop);
        await ServeAsync(listener, Body(size), stop.Token);
        return 0;
    }

    public static HttpListener Start(string addr, out Uri url)
    {
        var listener = new HttpListener { IgnoreWriteExceptions = true };
        listener.Prefixes.Add($"http://{addr}/");
        listener.Start();
        url = new Uri($"http://{addr}/");
        return listener;
    }

    public static byte[] Body(int size)
    {
        var body = new byte[size];
        Array.Fill(body, (byte)'x');
        body[0] = (byte)'"';
        body[^1] = (byte)'"';
        return body;
    }

    public static async Task ServeAsync(HttpListener listener, byte[] body, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (stop.IsCancellationRequested || !listener.IsListening)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    HttpListenerResponse response = context.Response;
                    response.ContentType = "application/json; charset=utf-8";
                    response.ContentLength64 = body.Length;
                    await response.OutputStream.WriteAsync(body);
                    response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
                {
                    context.Response.Abort();
                }
            }, CancellationToken.None);
        }
    }

    internal static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
