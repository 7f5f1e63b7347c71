using System.Diagnostics;
using System.Diagnostics.Metrics;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>Exemplars: the trace of the latest measurement per bucket taken inside an Activity, in OpenMetrics and protobuf only.</summary>
public class ExemplarTests
{
    [Test]
    public async Task A_measurement_inside_an_activity_is_the_exemplar_of_its_bucket_in_openmetrics_and_protobuf_only()
    {
        using var meter = new Meter($"Exemplar.{Guid.NewGuid():N}");
        Histogram<double> sizes = meter.CreateHistogram<double>(
            "size", "By", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [100, 1000] });
        await using StatsServer server = await TestServers.StartAsync(s => s.HandlePrometheus("/metrics").ExportMeters(meter.Name));
        sizes.Record(50);
        string traceId;
        string spanId;
        using (Activity activity = new Activity("work").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            sizes.Record(500);
            sizes.Record(700);
            traceId = activity.TraceId.ToHexString();
            spanId = activity.SpanId.ToHexString();
        }

        using HttpClient client = TestServers.Client(server);
        string openMetrics = await Scrapes.GetTextAsync(client, "/metrics", openMetrics: true);
        string text = await Scrapes.GetTextAsync(client, "/metrics", openMetrics: false);

        string[] buckets = [.. openMetrics.Split('\n').Where(l => l.StartsWith("size_bytes_bucket", StringComparison.Ordinal))];
        buckets[0].Should().Be("size_bytes_bucket{le=\"100.0\"} 1", "the measurement outside an Activity has no exemplar");
        buckets[1].Should().MatchRegex(
            $"^size_bytes_bucket{{le=\"1000.0\"}} 3 # {{trace_id=\"{traceId}\",span_id=\"{spanId}\"}} 700 [0-9]{{10}}\\.?[0-9]*$", "the latest of the bucket");
        text.Should().NotContain("trace_id", "the text format 0.0.4 has no exemplars");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.TryAddWithoutValidation("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited");
        using HttpResponseMessage response = await client.SendAsync(request);
        ProtobufMessage family = ProtobufMessage.ReadDelimited(await response.Content.ReadAsByteArrayAsync()).Single(f => f.String(1) == "size_bytes");
        List<ProtobufMessage> classic = family.Messages(4).Single().Messages(7).Single().Messages(3);
        classic[0].Has(3).Should().BeFalse();
        ProtobufMessage exemplar = classic[1].Messages(3).Single();
        exemplar.Messages(1).Select(l => (l.String(1), l.String(2))).Should().Equal(("trace_id", traceId), ("span_id", spanId));
        exemplar.Double(2).Should().Be(700);
        ((long)exemplar.Messages(3).Single().UInt64(1)).Should().BeCloseTo(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 60);
    }

    [Test]
    public async Task Turning_exemplars_off_keeps_none()
    {
        using var meter = new Meter($"Exemplar.{Guid.NewGuid():N}");
        Histogram<double> sizes = meter.CreateHistogram<double>("size", "By");
        await using StatsServer server = await TestServers.StartAsync(s => s.HandlePrometheus("/metrics").ExportMeters(meter.Name));
        server.Source.Exemplars = false;
        using (new Activity("work").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            sizes.Record(500);
        }

        using HttpClient client = TestServers.Client(server);
        string openMetrics = await Scrapes.GetTextAsync(client, "/metrics", openMetrics: true);

        openMetrics.Should().Contain("size_bytes_count 1").And.NotContain("trace_id");
    }

    [Test]
    public async Task A_hierarchical_activity_has_no_trace_id_and_gives_no_exemplar()
    {
        using var meter = new Meter($"Exemplar.{Guid.NewGuid():N}");
        Histogram<double> sizes = meter.CreateHistogram<double>("size", "By");
        await using StatsServer server = await TestServers.StartAsync(s => s.HandlePrometheus("/metrics").ExportMeters(meter.Name));
        using (new Activity("work").SetIdFormat(ActivityIdFormat.Hierarchical).Start())
        {
            sizes.Record(500);
        }

        using HttpClient client = TestServers.Client(server);
        (await Scrapes.GetTextAsync(client, "/metrics", openMetrics: true)).Should().Contain("size_bytes_count 1").And.NotContain("trace_id");
    }
}
