using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;

namespace StatsHandler.Benchmarks;

/// <summary>
/// One Prometheus scrape rendered into its pooled buffer: the runtime families alone, and with 100 series of the
/// app's own Meter instruments (10 counters with 10 tag values each).
/// </summary>
[MemoryDiagnoser]
public class PrometheusBenchmarks
{
    private PrometheusHandler _runtimeOnly = null!;
    private PrometheusHandler _withMeters = null!;
    private StatsSource _exports = null!;
    private Meter _meter = null!;

    [GlobalSetup]
    public void Setup()
    {
        _runtimeOnly = new PrometheusHandler();
        _meter = new Meter("Bench.App");
        _exports = new StatsSource();
        _exports.ExportMeters("Bench.App");
        for (int c = 0; c < 10; c++)
        {
            Counter<long> counter = _meter.CreateCounter<long>($"bench.requests.{c}", "{request}");
            for (int t = 0; t < 10; t++)
            {
                counter.Add(t + 1, new KeyValuePair<string, object?>("route", $"/route/{t}"));
            }
        }

        _withMeters = new PrometheusHandler(_exports);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runtimeOnly.Dispose();
        _withMeters.Dispose();
        _exports.Dispose();
        _meter.Dispose();
    }

    [Benchmark(Baseline = true, Description = "prometheus text, runtime families")]
    public int RuntimeOnly()
    {
        PrometheusBuffer buffer = _runtimeOnly.Render(openMetrics: false);
        int length = buffer.Length;
        _runtimeOnly.Return(buffer);
        return length;
    }

    [Benchmark(Description = "prometheus text, runtime + 100 app series")]
    public int WithMeters()
    {
        PrometheusBuffer buffer = _withMeters.Render(openMetrics: false);
        int length = buffer.Length;
        _withMeters.Return(buffer);
        return length;
    }

    [Benchmark(Description = "openmetrics, runtime + 100 app series")]
    public int OpenMetrics()
    {
        PrometheusBuffer buffer = _withMeters.Render(openMetrics: true);
        int length = buffer.Length;
        _withMeters.Return(buffer);
        return length;
    }
}
