using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace StatsHandler.Benchmarks;

/// <summary>Who listens to the benchmark's meter.</summary>
public enum Listener
{
    /// <summary>Nobody: the BCL's own cost of an instrument call with no listener.</summary>
    Nobody,

    /// <summary><c>new StatsServer("127.0.0.1:0").ExportMeters(name)</c>; exporting listens without starting the server.</summary>
    StatsHandler,

    /// <summary>The OpenTelemetry SDK: <c>Sdk.CreateMeterProviderBuilder().AddMeter(name).AddInMemoryExporter(list)</c>.</summary>
    OpenTelemetry,
}

/// <summary>
/// The app's hot path: one <c>Counter.Add</c> or <c>Histogram.Record</c> as the listener sees it, on 1, 2 or 4 threads
/// at once, all on the same series (the worst case for contention). Time is per measurement per thread, wall clock:
/// with perfect scaling it stays flat as threads are added.
/// </summary>
[MemoryDiagnoser]
public class RecordBenchmarks
{
    private const int OpsPerThread = 200_000;

    private static readonly KeyValuePair<string, object?> Method = new("method", "GET");
    private static readonly KeyValuePair<string, object?> Route = new("route", "/api/orders/{id}");
    private static readonly KeyValuePair<string, object?> Status = new("status", 200);

    // The rotating shape: five routes (the app's own string instances) times four status codes, boxed by the caller on
    // every call as `new("status", code)` does: twenty series, visited in turn.
    private static readonly string[] Routes = ["/api/orders/{id}", "/api/orders", "/api/users/{id}", "/health", "/api/cart"];
    private static readonly int[] Codes = [200, 404, 500, 302];

    private Meter _meter = null!;
    private Counter<long> _counter = null!;
    private Histogram<double> _histogram = null!;
    private StatsServer? _server;
    private MeterProvider? _provider;

    [ParamsAllValues]
    public Listener Listener { get; set; }

    [Params(1, 2, 4)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string name = "Bench.Record." + Guid.NewGuid().ToString("N");
        _meter = new Meter(name);
        _counter = _meter.CreateCounter<long>("requests");
        _histogram = _meter.CreateHistogram<double>("latency", "ms");
        switch (Listener)
        {
            case Listener.StatsHandler:
                _server = new StatsServer("127.0.0.1:0").ExportMeters(name);
                break;
            case Listener.OpenTelemetry:
                _provider = Sdk.CreateMeterProviderBuilder().AddMeter(name).AddInMemoryExporter(new List<Metric>()).Build();
                break;
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _server?.Dispose();
        _provider?.Dispose();
        _meter.Dispose();
    }

    [Benchmark(OperationsPerInvoke = OpsPerThread)]
    public void CounterNoTags() => Run(static b =>
    {
        Counter<long> counter = b._counter;
        for (int i = 0; i < OpsPerThread; i++)
        {
            counter.Add(1);
        }
    });

    [Benchmark(OperationsPerInvoke = OpsPerThread)]
    public void CounterThreeTags() => Run(static b =>
    {
        Counter<long> counter = b._counter;
        for (int i = 0; i < OpsPerThread; i++)
        {
            counter.Add(1, Method, Route, Status);
        }
    });

    [Benchmark(OperationsPerInvoke = OpsPerThread)]
    public void CounterThreeTagsBoxedIntTwentySeries() => Run(static b =>
    {
        Counter<long> counter = b._counter;
        string[] routes = Routes;
        int[] codes = Codes;
        for (int i = 0; i < OpsPerThread; i++)
        {
            counter.Add(1, new("method", "GET"), new("route", routes[i % 5]), new("status", codes[i & 3]));
        }
    });

    [Benchmark(OperationsPerInvoke = OpsPerThread)]
    public void HistogramOneTag() => Run(static b =>
    {
        Histogram<double> histogram = b._histogram;
        for (int i = 0; i < OpsPerThread; i++)
        {
            histogram.Record(i & 1023, Route);
        }
    });

    private void Run(Action<RecordBenchmarks> loop)
    {
        if (Threads == 1)
        {
            loop(this);
            return;
        }

        var threads = new Thread[Threads];
        using var start = new ManualResetEventSlim();
        for (int t = 0; t < threads.Length; t++)
        {
            threads[t] = new Thread(() =>
            {
                start.Wait();
                loop(this);
            });
            threads[t].Start();
        }

        start.Set();
        foreach (Thread thread in threads)
        {
            thread.Join();
        }
    }
}
