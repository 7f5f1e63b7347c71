using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace StatsHandler;

/// <summary>
/// Writes a <see cref="StatsSnapshot"/> as a Prometheus exposition: the built-in runtime families, the GC event
/// families, the published values and the exported instruments. A pure function of the snapshot, except for what it
/// encodes once and keeps in its own tables, keyed by instrument, series and published value (never on them).
/// One per handler; thread-safe.
/// </summary>
internal sealed class PrometheusStatsWriter
{
    private static readonly byte[] DroppedSeriesPrefix = System.Text.Encoding.UTF8.GetBytes(
        PrometheusNames.SampleName(PrometheusNames.DroppedSeries, PrometheusNames.Counter) + "{metric=\"");

    private readonly ConditionalWeakTable<Instrument, PrometheusInstrument> _instruments = [];
    private readonly ConditionalWeakTable<KeyValuePair<string, string>[], byte[]> _labels = [];
    private readonly ConditionalWeakTable<PublishedValue, PublishedForm> _published = [];
    private CachedForm<KeyValuePair<string, string>[], ConstantLabels>? _constantLabels;

    /// <summary>
    /// Writes every family of <paramref name="snapshot"/>, without the constant labels (<see cref="ConstantLabelsOf"/>
    /// adds them in a second pass). A published value whose name an instrument uses is left out (the capture reported it).
    /// </summary>
    public void Write(PrometheusBuffer b, bool openMetrics, StatsSnapshot snapshot)
    {
        if (snapshot.HasRuntime)
        {
            RuntimeStats stats = snapshot.Runtime;
            GcGenerationCounts collections = snapshot.Collections;
            PrometheusFamilies.Write(b, openMetrics, in stats, in collections);
            if (snapshot.GcEvents is { } gcEvents)
            {
                GcEventPrometheusWriter.Write(b, openMetrics, gcEvents);
            }
        }

        foreach (ref readonly PublishedSnapshot value in snapshot.Published)
        {
            WritePublished(b, openMetrics, in value);
        }

        ReadOnlySpan<InstrumentSnapshot> instruments = snapshot.Instruments;
        foreach (ref readonly InstrumentSnapshot instrument in instruments)
        {
            WriteInstrument(b, openMetrics, in instrument);
        }

        if (instruments.IsEmpty)
        {
            return;
        }

        b.Write(PrometheusFamilies.DroppedSeries.For(openMetrics));
        foreach (ref readonly InstrumentSnapshot instrument in instruments)
        {
            b.Write(DroppedSeriesPrefix);
            b.WriteText(instrument.PrometheusName);
            b.Write("\"} "u8);
            b.Write(instrument.DroppedSeries);
            b.Write((byte)'\n');
        }
    }

    /// <summary>The snapshot's constant labels, encoded once per set.</summary>
    public ConstantLabels ConstantLabelsOf(StatsSnapshot snapshot)
    {
        KeyValuePair<string, string>[] labels = snapshot.ConstantLabelArray;
        CachedForm<KeyValuePair<string, string>[], ConstantLabels>? cached = Volatile.Read(ref _constantLabels);
        if (cached is null || !ReferenceEquals(cached.Source, labels))
        {
            cached = new(labels, ConstantLabels.Of(labels));
            Volatile.Write(ref _constantLabels, cached);
        }

        return cached.Form;
    }

    private void WritePublished(PrometheusBuffer b, bool openMetrics, in PublishedSnapshot value)
    {
        if (value.ShadowedInPrometheus || (value.Kind == PublishedKind.Text && value.Text is null))
        {
            // Shadowed: the instrument's samples win (reported by the capture). No text: an info family with an empty
            // value would claim there is one.
            return;
        }

        PublishedForm form = _published.GetValue(value.Source, static v => new PublishedForm(v));
        b.Write(form.Header.For(openMetrics));
        b.Write(form.SampleName);
        switch (value.Kind)
        {
            case PublishedKind.Text:
                b.Write("{value=\""u8);
                b.WriteLabelValue(value.Text!);
                b.Write("\"} 1"u8);
                break;
            case PublishedKind.Number:
                b.Write((byte)' ');
                b.Write(value.Number);
                break;
            default:
                b.Write((byte)' ');
                b.Write(value.WholeNumber);
                break;
        }

        b.Write((byte)'\n');
    }

    private void WriteInstrument(PrometheusBuffer b, bool openMetrics, in InstrumentSnapshot instrument)
    {
        ReadOnlySpan<SeriesSnapshot> series = instrument.Series;
        if (series.IsEmpty)
        {
            return;
        }

        PrometheusInstrument form = _instruments.TryGetValue(instrument.Instrument, out PrometheusInstrument? known) ? known : Encode(instrument);
        b.Write(form.Header.For(openMetrics));
        bool histogram = instrument.Kind == InstrumentKind.Histogram;
        if (!histogram)
        {
            foreach (ref readonly SeriesSnapshot one in series)
            {
                b.Write(form.SampleName);
                WriteLabels(b, LabelsOf(in one, histogram));
                b.Write((byte)' ');
                b.Write(one.Value * form.Scale);
                b.Write((byte)'\n');
            }

            return;
        }

        byte[][] le = openMetrics ? form.OpenMetricsBucketLabels : form.TextBucketLabels;
        bool negativeBuckets = instrument.Bounds.Length > 0 && instrument.Bounds[0] < 0;
        foreach (ref readonly SeriesSnapshot one in series)
        {
            ReadOnlySpan<long> buckets = one.BucketCounts;
            Exemplar?[]? exemplars = openMetrics ? one.Exemplars : null;
            byte[] labels = LabelsOf(in one, histogram);
            long cumulative = 0;
            for (int i = 0; i < buckets.Length; i++)
            {
                cumulative += buckets[i];
                b.Write(form.BucketName);
                if (labels.Length > 0)
                {
                    b.Write(labels);
                    b.Write((byte)',');
                }

                b.Write(le[i]);
                b.Write("} "u8);
                b.Write(cumulative);
                if (exemplars is not null && exemplars[i] is { } exemplar)
                {
                    WriteExemplar(b, exemplar, form.Scale);
                }

                b.Write((byte)'\n');
            }

            // OpenMetrics treats _sum as a counter: it may not be NaN or negative, nor present with negative
            // buckets; and _count appears exactly when _sum does.
            if (openMetrics && !(one.Sum >= 0 && !negativeBuckets))
            {
                continue;
            }

            b.Write(form.SumName);
            WriteLabels(b, labels);
            b.Write((byte)' ');
            b.Write(one.Sum * form.Scale);
            b.Write((byte)'\n');
            b.Write(form.CountName);
            WriteLabels(b, labels);
            b.Write((byte)' ');
            b.Write(one.Count);
            b.Write((byte)'\n');
        }
    }

    /// <summary>An OpenMetrics exemplar after a bucket's count: <c> # {trace_id="...",span_id="..."} value timestamp</c>.</summary>
    private static void WriteExemplar(PrometheusBuffer b, Exemplar exemplar, double scale)
    {
        b.Write(" # {trace_id=\""u8);
        b.WriteText(exemplar.TraceId);
        b.Write("\",span_id=\""u8);
        b.WriteText(exemplar.SpanId);
        b.Write("\"} "u8);
        b.Write(exemplar.Value * scale);
        b.Write((byte)' ');
        b.Write(exemplar.UnixMilliseconds / 1000.0);
    }

    /// <summary>The series' labels, <c>a="x",b="y"</c>, encoded on its first scrape and kept in this writer's table.</summary>
    private byte[] LabelsOf(in SeriesSnapshot series, bool histogram)
    {
        KeyValuePair<string, string>[] tags = series.TagArray;
        if (tags.Length == 0)
        {
            return [];
        }

        return _labels.TryGetValue(tags, out byte[]? encoded) ? encoded : EncodeLabels(tags, histogram);
    }

    // The two misses apart, so the hit path allocates no closure.
    private PrometheusInstrument Encode(InstrumentSnapshot instrument) =>
        _instruments.GetValue(instrument.Instrument, _ => new PrometheusInstrument(in instrument));

    private byte[] EncodeLabels(KeyValuePair<string, string>[] tags, bool histogram) =>
        _labels.GetValue(tags, t => PrometheusInstrument.EncodeLabels(t, histogram));

    private static void WriteLabels(PrometheusBuffer b, byte[] encoded)
    {
        if (encoded.Length == 0)
        {
            return;
        }

        b.Write((byte)'{');
        b.Write(encoded);
        b.Write((byte)'}');
    }

    /// <summary>A published value's header and sample name, encoded once.</summary>
    private sealed class PublishedForm(PublishedValue value)
    {
        public PrometheusHeader Header { get; } = value.Kind == PublishedKind.Text
            ? PrometheusHeader.Create(value.Name, PrometheusNames.Info, $"Published text {value.Name}, in the label 'value'.")
            : PrometheusHeader.Create(value.Name, PrometheusNames.Gauge, value.Kind == PublishedKind.Boolean
                ? $"Published value {value.Name}: 1 for true, 0 for false."
                : $"Published value {value.Name}.");

        public byte[] SampleName { get; } = System.Text.Encoding.UTF8.GetBytes(value.SampleName);
    }
}
