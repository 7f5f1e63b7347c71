using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>The protobuf exposition Prometheus asks for with native histograms on, decoded field by field.</summary>
public class PrometheusProtobufTests
{
    private const string PrometheusAccept =
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.1";

    [Test]
    public async Task A_protobuf_scrape_has_every_text_family_with_constant_labels_and_native_buckets_beside_the_classic_ones()
    {
        using var meter = new Meter($"Proto.{Guid.NewGuid():N}");
        Histogram<double> sizes = meter.CreateHistogram<double>(
            "buffer.size", "By", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1_000, 100_000] });
        Counter<long> jobs = meter.CreateCounter<long>("jobs.done", "{job}");
        await using StatsServer server = await TestServers.StartAsync(s => s
            .HandlePrometheus("/metrics")
            .ExportMeters(meter.Name)
            .Publish("build_version", () => "1.2.3")
            .AddConstantLabel("service", "orders"));
        var values = new List<double>();
        for (int i = 0; i < 1000; i++)
        {
            double value = 1_000 + (i * 199.0);
            values.Add(value);
            sizes.Record(value, new KeyValuePair<string, object?>("pool", "a"));
        }

        sizes.Record(0, new KeyValuePair<string, object?>("pool", "a"));
        sizes.Record(-8, new KeyValuePair<string, object?>("pool", "a"));
        jobs.Add(3);
        using HttpClient client = TestServers.Client(server);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.TryAddWithoutValidation("Accept", PrometheusAccept);
        using HttpResponseMessage response = await client.SendAsync(request);
        response.Content.Headers.ContentType!.ToString().Should().Be(
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited");
        List<ProtobufMessage> families = ProtobufMessage.ReadDelimited(await response.Content.ReadAsByteArrayAsync());
        Dictionary<string, ExpositionFamily> text = await Scrapes.ParseAsync(client, "/metrics", openMetrics: false);

        // Every family of the text, in protobuf, with the same number of series; every series has the constant label.
        families.Select(f => f.String(1)).Should().BeEquivalentTo(text.Values.Select(f => f.Name));
        foreach (ProtobufMessage each in families)
        {
            List<ProtobufMessage> metrics = each.Messages(4);
            metrics.Should().NotBeEmpty(each.String(1));
            metrics.Should().OnlyContain(m => m.Messages(1).Any(l => l.String(1) == "service" && l.String(2) == "orders"), each.String(1));
        }

        ProtobufMessage info = families.Single(f => f.String(1) == "build_version_info");
        info.UInt64(3).Should().Be(1, "an info family is a gauge of 1");
        info.Messages(4)[0].Messages(1).Should().Contain(l => l.String(1) == "value" && l.String(2) == "1.2.3");
        ProtobufMessage counter = families.Single(f => f.String(1) == "jobs_done_total");
        (counter.UInt64(3), counter.Messages(4)[0].Messages(3)[0].Double(1)).Should().Be((0UL, 3.0));
        families.Should().Contain(f => f.String(1) == "statshandler_dropped_series_total");

        // The histogram: classic buckets as in the text, and the native schema, zero bucket, spans and deltas.
        ProtobufMessage family = families.Single(f => f.String(1) == "buffer_size_bytes");
        family.UInt64(3).Should().Be(4, "HISTOGRAM");
        ProtobufMessage histogram = family.Messages(4).Single().Messages(7).Single();
        histogram.UInt64(1).Should().Be(1002);
        histogram.Double(2).Should().Be(values.Sum() - 8);
        histogram.Messages(3).Select(b => (b.Double(2), (long)b.UInt64(1))).Should().Equal((1_000.0, 3L), (100_000.0, 500L), (double.PositiveInfinity, 1002L));
        int schema = (int)histogram.SInt64(5);
        schema.Should().Be(4, "1,000 to 199,801 is 7.6 powers of two: 122 buckets at scale 4");
        histogram.UInt64(7).Should().Be(1, "one zero");

        ProtobufMessage span = histogram.Messages(12).Single();
        int offset = (int)span.SInt64(1);
        int length = (int)span.UInt64(2);
        long count = 0;
        var counts = new long[length];
        List<long> deltas = histogram.PackedSInt64(13);
        deltas.Should().HaveCount(length);
        for (int i = 0; i < length; i++)
        {
            count += deltas[i];
            counts[i] = count;
        }

        counts.Sum().Should().Be(1000);
        var expected = new long[length];
        foreach (double value in values)
        {
            // Prometheus's bucket i is (2^((i-1)/16), 2^(i/16)]: one above the exponential index.
            expected[ExponentialScale.IndexOf(value, schema) + 1 - offset]++;
        }

        counts.Should().Equal(expected);
        ProtobufMessage negative = histogram.Messages(9).Single();
        ((int)negative.SInt64(1), negative.UInt64(2), histogram.PackedSInt64(10).Single()).Should().Be((ExponentialScale.IndexOf(8, schema) + 1, 1UL, 1L));
    }

    [TestCase("application/vnd.google.protobuf;proto=io.prometheus.client.Unknown;encoding=delimited")]
    [TestCase("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text")]
    public async Task An_accept_for_another_protobuf_gets_the_text_format_as_before(string accept)
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.HandlePrometheus("/metrics"));
        using HttpClient client = TestServers.Client(server);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.TryAddWithoutValidation("Accept", accept);

        using HttpResponseMessage response = await client.SendAsync(request);

        response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
        (await response.Content.ReadAsStringAsync()).Should().Contain("# TYPE process_cpu_seconds_total counter");
    }
}
