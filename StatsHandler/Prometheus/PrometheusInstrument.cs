namespace StatsHandler;

/// <summary>
/// The Prometheus bytes of one exported instrument, encoded once on its first scrape: the family's header, the
/// samples' name, the unit scale and each bucket's <c>le</c> label; and the encoding of a series' labels
/// (<see cref="EncodeLabels"/>). The writer keeps them in its own tables.
/// </summary>
internal sealed class PrometheusInstrument
{
    public PrometheusInstrument(in InstrumentSnapshot instrument)
    {
        var meter = instrument.Instrument;
        string type = InstrumentKinds.PrometheusType(instrument.Kind);
        string help = string.IsNullOrWhiteSpace(meter.Description)
            ? $"{meter.Name} ({InstrumentKinds.Name(instrument.Kind)}{(string.IsNullOrEmpty(meter.Unit) ? string.Empty : ", unit " + meter.Unit)}) of meter {meter.Meter.Name}."
            : meter.Description;
        Header = PrometheusHeader.Create(instrument.PrometheusName, type, help);
        SampleName = System.Text.Encoding.UTF8.GetBytes(PrometheusNames.SampleName(instrument.PrometheusName, type));
        BucketName = System.Text.Encoding.UTF8.GetBytes(PrometheusNames.BucketSample(instrument.PrometheusName) + "{");
        SumName = System.Text.Encoding.UTF8.GetBytes(PrometheusNames.SumSample(instrument.PrometheusName));
        CountName = System.Text.Encoding.UTF8.GetBytes(PrometheusNames.CountSample(instrument.PrometheusName));
        Scale = PrometheusNames.UnitScale(meter.Unit);
        TextBucketLabels = EncodeBounds(instrument.Bounds, Scale, openMetrics: false);
        OpenMetricsBucketLabels = EncodeBounds(instrument.Bounds, Scale, openMetrics: true);
    }

    public PrometheusHeader Header { get; }

    /// <summary>The name of the samples: the family name, plus <c>_total</c> for counters.</summary>
    public byte[] SampleName { get; }

    /// <summary>A histogram's bucket sample name and the label set's opening brace, <c>name_bucket{</c>.</summary>
    public byte[] BucketName { get; }

    /// <summary>A histogram's sum sample name, <c>name_sum</c>.</summary>
    public byte[] SumName { get; }

    /// <summary>A histogram's count sample name, <c>name_count</c>.</summary>
    public byte[] CountName { get; }

    /// <summary>
    /// What a value in the instrument's unit is multiplied by in the Prometheus output, which uses base units
    /// (0.001 for <c>ms</c>); the JSON document keeps the instrument's own unit.
    /// </summary>
    public double Scale { get; }

    /// <summary><c>le="..."</c> for each bound, then <c>le="+Inf"</c>, in the text format's spelling.</summary>
    public byte[][] TextBucketLabels { get; }

    /// <summary><c>le="..."</c> for each bound, then <c>le="+Inf"</c>, in OpenMetrics' canonical spelling.</summary>
    public byte[][] OpenMetricsBucketLabels { get; }

    /// <summary>A series' labels, <c>a="x",b="y"</c> with names sanitised and values escaped (empty for no tags).</summary>
    public static byte[] EncodeLabels(KeyValuePair<string, string>[] tags, bool isHistogram)
    {
        if (tags.Length == 0)
        {
            return [];
        }

        // Prometheus names may collide once sanitised ("a.b" and "a_b"): join their values with ';' as OpenTelemetry does.
        var labels = new List<KeyValuePair<string, string>>(tags.Length);
        foreach (KeyValuePair<string, string> tag in tags)
        {
            string name = PrometheusNames.LabelName(tag.Key);
            if (name == "le" && isHistogram)
            {
                name = "_le";
            }

            int existing = labels.FindIndex(l => l.Key == name);
            if (existing >= 0)
            {
                labels[existing] = new(name, labels[existing].Value + ";" + tag.Value);
            }
            else
            {
                labels.Add(new(name, tag.Value));
            }
        }

        labels.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        using var buffer = new PrometheusBuffer(128);
        for (int i = 0; i < labels.Count; i++)
        {
            if (i > 0)
            {
                buffer.Write((byte)',');
            }

            buffer.WriteText(labels[i].Key);
            buffer.Write("=\""u8);
            buffer.WriteLabelValue(labels[i].Value);
            buffer.Write((byte)'"');
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static byte[][] EncodeBounds(ReadOnlySpan<double> bounds, double scale, bool openMetrics)
    {
        var labels = new byte[bounds.Length + 1][];
        for (int i = 0; i <= bounds.Length; i++)
        {
            using var one = new PrometheusBuffer(64);
            one.Write("le=\""u8);
            one.Write(i < bounds.Length ? bounds[i] * scale : double.PositiveInfinity, forceDecimalPoint: openMetrics);
            one.Write((byte)'"');
            labels[i] = one.WrittenSpan.ToArray();
        }

        return labels;
    }
}
