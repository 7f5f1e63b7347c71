namespace StatsHandler.Tests;

public class ExpositionFormatTests
{
    [TestCase(null, false)]
    [TestCase("", false)]
    [TestCase("*/*", false)]
    [TestCase("text/plain", false)]
    [TestCase("application/openmetrics-text", true)]
    [TestCase("application/openmetrics-text; version=1.0.0; charset=utf-8", true)]
    [TestCase("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", true)]
    [TestCase("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2", true)]
    [TestCase("text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5", false)]
    [TestCase("application/openmetrics-text;q=0", false)]
    [TestCase("application/openmetrics-text;version=0.0.1", false)]
    [TestCase("application/openmetrics-text;q=banana", false)]
    [TestCase("APPLICATION/OpenMetrics-Text", true)]
    public void Accept_picks_openmetrics_only_when_preferred(string? accept, bool openMetrics)
    {
        ExpositionFormat.PrefersOpenMetrics(accept).Should().Be(openMetrics);
    }

    private const string PrometheusNative =
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.1";

    [TestCase(PrometheusNative, true)]
    [TestCase("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", true)]
    [TestCase("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited", true)]
    [TestCase("application/vnd.google.protobuf;proto=io.prometheus.client.Other;encoding=delimited", false)]
    [TestCase("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text", false)]
    [TestCase("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=compact-text", false)]
    [TestCase("application/vnd.google.protobuf;encoding=delimited", false)]
    [TestCase("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.2,text/plain;version=0.0.4;q=0.5", false)]
    [TestCase("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0", false)]
    [TestCase("application/openmetrics-text;version=1.0.0", false)]
    [TestCase("*/*", false)]
    [TestCase(null, false)]
    public void Accept_picks_protobuf_only_for_the_metric_family_stream_when_preferred(string? accept, bool protobuf)
    {
        ExpositionFormat.PrefersProtobuf(accept).Should().Be(protobuf);
    }
}
