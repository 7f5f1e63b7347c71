using System.Diagnostics;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;

namespace StatsHandler.Benchmarks;

/// <summary>
/// One request's capture and render with the app's histograms: 3 histograms with 10 series each, every series with
/// values across its classic and exponential buckets, and some measured inside a W3C Activity so that buckets carry
/// exemplars. Steady state: the same series at every capture, as between two scrapes of a running app.
/// </summary>
[MemoryDiagnoser]
public class HistogramSnapshotBenchmarks
{
    private StatsSource _source = null!;
    private Meter _meter = null!;
    private StatsCapture _capture = null!;
    private RuntimeStatsHandler _json = null!;
    private PrometheusHandler _prometheus = null!;

    [GlobalSetup]
    public void Setup()
    {
        _meter = new Meter("Bench.Histograms");
        _source = new StatsSource();
        _source.ExportMeters("Bench.Histograms");
        for (int h = 0; h < 3; h++)
        {
            Histogram<double> histogram = _meter.CreateHistogram<double>($"bench.latency.{h}", "ms");
            for (int t = 0; t < 10; t++)
            {
                var route = new KeyValuePair<string, object?>("route", $"/route/{t}");
                for (int i = 1; i <= 200; i++)
                {
                    histogram.Record(i * (t + 1) * 0.37, route);
                }

                // A third of the values inside an Activity: their buckets keep an exemplar.
                using var activity = new Activity("bench.request").SetIdFormat(ActivityIdFormat.W3C).Start();
                for (int i = 1; i <= 100; i += 3)
                {
                    histogram.Record(i * (t + 1) * 11.0, route);
                }
            }
        }

        _capture = new StatsCapture(_source);
        _json = new RuntimeStatsHandler(_source);
        _prometheus = new PrometheusHandler(_source);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _capture.Dispose();
        _json.Dispose();
        _prometheus.Dispose();
        _source.Dispose();
        _meter.Dispose();
    }

    [Benchmark(Baseline = true, Description = "capture, 30 histogram series")]
    public int Capture()
    {
        StatsSnapshot snapshot = _capture.Take();
        int series = snapshot.Instruments.Length;
        _capture.Return(snapshot);
        return series;
    }

    [Benchmark(Description = "capture + json, 30 histogram series")]
    public int CaptureAndJson()
    {
        JsonBufferPool.Lease lease = _json.Render(indented: false);
        int length = lease.Buffer.WrittenCount;
        _json.Return(lease);
        return length;
    }

    [Benchmark(Description = "capture + prometheus text, 30 histogram series")]
    public int CaptureAndText() => Render(openMetrics: false, protobuf: false);

    [Benchmark(Description = "capture + openmetrics (exemplars), 30 histogram series")]
    public int CaptureAndOpenMetrics() => Render(openMetrics: true, protobuf: false);

    [Benchmark(Description = "capture + protobuf (native, exemplars), 30 histogram series")]
    public int CaptureAndProtobuf() => Render(openMetrics: false, protobuf: true);

    private int Render(bool openMetrics, bool protobuf)
    {
        PrometheusBuffer buffer = _prometheus.Render(openMetrics, protobuf);
        int length = buffer.Length;
        _prometheus.Return(buffer);
        return length;
    }
}
