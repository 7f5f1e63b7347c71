using System.Net;
using BenchmarkDotNet.Attributes;

namespace StatsHandler.Benchmarks;

/// <summary>
/// One GET over a kept-alive loopback connection: StatsHandler's /api/stats (a fresh snapshot every time) against a
/// bare HttpListener serving a fixed body of the same size. The client's cost is in both.
/// </summary>
[MemoryDiagnoser]
public class RequestBenchmarks
{
    private StatsServer _server = null!;
    private HttpListener _bare = null!;
    private CancellationTokenSource _stopBare = null!;
    private HttpClient _client = null!;
    private Uri _stats = null!;
    private Uri _bareUrl = null!;

    [GlobalSetup]
    public void Setup()
    {
        _server = new StatsServer("127.0.0.1:0").Handle("/api/stats");
        _server.StartAsync().GetAwaiter().GetResult();
        _stats = new Uri(_server.Url, "api/stats");
        _client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 });
        int size = _client.GetByteArrayAsync(_stats).GetAwaiter().GetResult().Length;

        int port = LoadHarness.FreePort();
        _bare = BareListener.Start($"127.0.0.1:{port}", out _bareUrl);
        _stopBare = new CancellationTokenSource();
        _ = BareListener.ServeAsync(_bare, BareListener.Body(size), _stopBare.Token);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stopBare.Cancel();
        _bare.Close();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _client.Dispose();
    }

    [Benchmark(Baseline = true, Description = "bare HttpListener, fixed body")]
    public Task<byte[]> Bare() => _client.GetByteArrayAsync(_bareUrl);

    [Benchmark(Description = "StatsServer /api/stats")]
    public Task<byte[]> Stats() => _client.GetByteArrayAsync(_stats);
}
