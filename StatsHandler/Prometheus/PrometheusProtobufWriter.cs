using System.Globalization;
using System.Text;

namespace StatsHandler;

/// <summary>
/// Writes Prometheus's protobuf exposition (<c>io.prometheus.client.MetricFamily</c> messages, each prefixed with its
/// length) from the text exposition the text writer made of the same snapshot, and adds to every histogram the native
/// (exponential) buckets the snapshot carries: schema, zero bucket, spans and deltas beside the classic buckets, and
/// each classic bucket's exemplar.
/// </summary>
/// <remarks>
/// Reading the text keeps one source of truth for what is exposed: every family, its help, the constant labels, the
/// info family, the series cap and the dropped-series counter are the text's own, so the three formats cannot drift.
/// The schema is <c>prometheus/client_model</c>'s <c>metrics.proto</c> as Prometheus 2.42 reads it.
/// Histograms whose unit the text writer converts (milliseconds to seconds, say) keep their classic buckets only:
/// a factor that is not a power of two does not map base-2 buckets onto base-2 buckets.
/// </remarks>
internal static class PrometheusProtobufWriter
{
    /// <summary>The content type served, as Prometheus asks for it.</summary>
    public const string ContentType = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

    /// <summary>The finest schema Prometheus accepts (its schemas are -4 to 8).</summary>
    private const int MaxSchema = 8;

    /// <summary>Writes the families of <paramref name="text"/> (text format 0.0.4, constant labels applied) as protobuf.</summary>
    public static void Write(ReadOnlySpan<byte> text, StatsSnapshot snapshot, PrometheusBuffer output)
    {
        Dictionary<string, SeriesSnapshot[]> natives = NativesOf(snapshot);
        var encoders = new Encoders();
        Family? family = null;
        foreach (string line in Encoding.UTF8.GetString(text).Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith("# HELP ", StringComparison.Ordinal) || line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                int space = line.IndexOf(' ', 7);
                string name = space < 0 ? line[7..] : line[7..space];
                string rest = space < 0 ? string.Empty : line[(space + 1)..];
                if (family is null || family.Name != name)
                {
                    Flush(family, output, encoders);
                    family = new Family(name, natives.GetValueOrDefault(name));
                }

                if (line[2] == 'H')
                {
                    family.Help = UnescapeHelp(rest);
                }
                else
                {
                    family.Type = rest;
                }

                continue;
            }

            if (line[0] == '#')
            {
                continue;
            }

            (string sample, List<KeyValuePair<string, string>> labels, double value) = ParseSample(line);
            if (family is null || !family.Owns(sample))
            {
                Flush(family, output, encoders);
                family = new Family(sample, null);
            }

            family.Add(sample, labels, value);
        }

        Flush(family, output, encoders);
    }

    /// <summary>
    /// Every histogram family's series (native buckets and exemplars), by family name, in the order the text writes
    /// them; the GC pause histogram as a series of its own.
    /// </summary>
    private static Dictionary<string, SeriesSnapshot[]> NativesOf(StatsSnapshot snapshot)
    {
        var natives = new Dictionary<string, SeriesSnapshot[]>(StringComparer.Ordinal);
        if (snapshot.GcEvents is { } gcEvents)
        {
            natives[PrometheusNames.GcPauseSeconds] = [new SeriesSnapshot([], 0, 0, [], 0, 0, gcEvents.Exponential, null)];
        }

        foreach (ref readonly InstrumentSnapshot instrument in snapshot.Instruments)
        {
            if (instrument.Kind == InstrumentKind.Histogram && PrometheusNames.UnitScale(instrument.Instrument.Unit) == 1)
            {
                natives[instrument.PrometheusName] = instrument.Series.ToArray();
            }
        }

        return natives;
    }

    private static void Flush(Family? family, PrometheusBuffer output, Encoders e)
    {
        if (family is null)
        {
            return;
        }

        e.Family.Clear();
        e.Family.String(1, family.Name);
        if (family.Help is not null)
        {
            e.Family.String(2, family.Help);
        }

        e.Family.UInt64(3, family.Type switch
        {
            "counter" => 0,
            "gauge" => 1,
            "summary" => 2,
            "histogram" => 4,
            _ => 3,
        });
        for (int m = 0; m < family.Metrics.Count; m++)
        {
            Metric metric = family.Metrics[m];
            e.Metric.Clear();
            foreach (KeyValuePair<string, string> label in metric.Labels)
            {
                e.Part.Clear();
                e.Part.String(1, label.Key);
                e.Part.String(2, label.Value);
                e.Metric.Bytes(1, e.Part.WrittenSpan);
            }

            e.Value.Clear();
            switch (family.Type)
            {
                case "histogram":
                    WriteHistogram(metric, family.Natives is { } n && m < n.Length ? n[m] : null, e);
                    e.Metric.Bytes(7, e.Value.WrittenSpan);
                    break;
                default:
                    e.Value.Double(1, metric.Value);
                    e.Metric.Bytes(family.Type switch { "counter" => 3, "gauge" => 2, _ => 5 }, e.Value.WrittenSpan);
                    break;
            }

            e.Family.Bytes(4, e.Metric.WrittenSpan);
        }

        e.Stream.Clear();
        e.Stream.Delimited(e.Family.WrittenSpan);
        output.Write(e.Stream.WrittenSpan);
    }

    private static void WriteHistogram(Metric metric, SeriesSnapshot? series, Encoders e)
    {
        ProtobufEncoder h = e.Value;
        h.UInt64(1, (ulong)Math.Max(0, metric.Count));
        h.Double(2, metric.Sum);
        Exemplar?[]? exemplars = series?.Exemplars;
        for (int i = 0; i < metric.Buckets.Count; i++)
        {
            (double upper, double cumulative) = metric.Buckets[i];
            e.Part.Clear();
            e.Part.UInt64(1, (ulong)Math.Max(0, cumulative));
            e.Part.Double(2, upper);
            if (exemplars is not null && i < exemplars.Length && exemplars[i] is { } exemplar)
            {
                WriteExemplar(e.Part, exemplar, e);
            }

            h.Bytes(3, e.Part.WrittenSpan);
        }

        if (series is not { } one)
        {
            return;
        }

        ExponentialHistogram native = one.Exponential;

        int schema = Math.Min(native.Scale, MaxSchema);
        h.SInt64(5, schema);
        h.UInt64(7, (ulong)native.ZeroCount);
        (int negativeOffset, long[] negative) = Downscale(native.NegativeOffset, native.Negative, native.Scale - schema);
        if (negative.Length > 0)
        {
            WriteBuckets(h, 9, 10, negativeOffset, negative, e);
        }

        (int positiveOffset, long[] positive) = Downscale(native.PositiveOffset, native.Positive, native.Scale - schema);
        if (positive.Length > 0 || negative.Length > 0 || native.ZeroCount > 0)
        {
            if (positive.Length > 0)
            {
                WriteBuckets(h, 12, 13, positiveOffset, positive, e);
            }
        }
        else
        {
            // No observation yet: a no-op span, so the histogram reads as native rather than classic.
            e.Part.Clear();
            h.Bytes(12, e.Part.WrittenSpan);
        }
    }

    /// <summary>A bucket's exemplar (field 3): the trace and span id labels, the value and a Timestamp.</summary>
    private static void WriteExemplar(ProtobufEncoder bucket, Exemplar exemplar, Encoders e)
    {
        e.Exemplar.Clear();
        foreach ((string name, string value) in new[] { ("trace_id", exemplar.TraceId), ("span_id", exemplar.SpanId) })
        {
            e.Label.Clear();
            e.Label.String(1, name);
            e.Label.String(2, value);
            e.Exemplar.Bytes(1, e.Label.WrittenSpan);
        }

        e.Exemplar.Double(2, exemplar.Value);
        e.Label.Clear();
        e.Label.UInt64(1, (ulong)(exemplar.UnixMilliseconds / 1000));
        e.Label.UInt64(2, (ulong)(exemplar.UnixMilliseconds % 1000 * 1_000_000));
        e.Exemplar.Bytes(3, e.Label.WrittenSpan);
        bucket.Bytes(3, e.Exemplar.WrittenSpan);
    }

    /// <summary>One sign's buckets: a single span from the first (Prometheus numbers a bucket one above ours), then the deltas.</summary>
    private static void WriteBuckets(ProtobufEncoder h, int spanField, int deltaField, int offset, long[] counts, Encoders e)
    {
        e.Part.Clear();
        e.Part.SInt64(1, offset + 1);
        e.Part.UInt64(2, (ulong)counts.Length);
        h.Bytes(spanField, e.Part.WrittenSpan);
        var deltas = new long[counts.Length];
        long previous = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            deltas[i] = counts[i] - previous;
            previous = counts[i];
        }

        h.PackedSInt64(deltaField, deltas, e.Part);
    }

    /// <summary>Counts at <paramref name="steps"/> scales lower: each step merges buckets 2k and 2k+1 into k.</summary>
    private static (int Offset, long[] Counts) Downscale(int offset, long[] counts, int steps)
    {
        if (steps <= 0 || counts.Length == 0)
        {
            return (offset, counts);
        }

        int first = offset >> steps;
        int last = (offset + counts.Length - 1) >> steps;
        var merged = new long[last - first + 1];
        for (int i = 0; i < counts.Length; i++)
        {
            merged[((offset + i) >> steps) - first] += counts[i];
        }

        return (first, merged);
    }

    /// <summary>Reads <c>name{a="x",b="y"} value</c> with the text format's escapes.</summary>
    private static (string Name, List<KeyValuePair<string, string>> Labels, double Value) ParseSample(string line)
    {
        var labels = new List<KeyValuePair<string, string>>();
        int i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ')
        {
            i++;
        }

        string name = line[..i];
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (i < line.Length && line[i] != '}')
            {
                int equals = line.IndexOf('=', i);
                string key = line[i..equals];
                i = equals + 2; // past ="
                var value = new StringBuilder();
                while (line[i] != '"')
                {
                    if (line[i] == '\\' && i + 1 < line.Length)
                    {
                        i++;
                        value.Append(line[i] == 'n' ? '\n' : line[i]);
                    }
                    else
                    {
                        value.Append(line[i]);
                    }

                    i++;
                }

                labels.Add(new(key, value.ToString()));
                i++; // past the closing quote
                if (i < line.Length && line[i] == ',')
                {
                    i++;
                }
            }

            i++; // past }
        }

        string token = line[i..].Trim();
        int end = token.IndexOf(' ');
        token = end < 0 ? token : token[..end];
        double number = token switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            _ => double.Parse(token, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return (name, labels, number);
    }

    private static string UnescapeHelp(string help)
    {
        if (!help.Contains('\\', StringComparison.Ordinal))
        {
            return help;
        }

        var text = new StringBuilder(help.Length);
        for (int i = 0; i < help.Length; i++)
        {
            if (help[i] == '\\' && i + 1 < help.Length)
            {
                i++;
                text.Append(help[i] == 'n' ? '\n' : help[i]);
            }
            else
            {
                text.Append(help[i]);
            }
        }

        return text.ToString();
    }

    /// <summary>The encoders one write reuses: family, metric, value, a part (label, bucket, span) and the stream.</summary>
    private sealed class Encoders
    {
        public ProtobufEncoder Family { get; } = new();

        public ProtobufEncoder Metric { get; } = new();

        public ProtobufEncoder Value { get; } = new();

        public ProtobufEncoder Part { get; } = new();

        public ProtobufEncoder Stream { get; } = new();

        public ProtobufEncoder Exemplar { get; } = new();

        public ProtobufEncoder Label { get; } = new();
    }

    /// <summary>One family as read from the text: its metrics in order.</summary>
    private sealed class Family(string name, SeriesSnapshot[]? natives)
    {
        public string Name { get; } = name;

        public string? Help { get; set; }

        public string Type { get; set; } = "untyped";

        public SeriesSnapshot[]? Natives { get; } = natives;

        public List<Metric> Metrics { get; } = [];

        public bool Owns(string sample) => sample == Name
            || (Type == "histogram" && (sample == Name + "_bucket" || sample == Name + "_sum" || sample == Name + "_count"));

        public void Add(string sample, List<KeyValuePair<string, string>> labels, double value)
        {
            if (Type != "histogram")
            {
                Metrics.Add(new Metric(labels) { Value = value });
                return;
            }

            // A histogram series is its buckets, then _sum and _count: a bucket after a _count starts the next one.
            Metric? current = Metrics.Count > 0 ? Metrics[^1] : null;
            if (sample.EndsWith("_bucket", StringComparison.Ordinal))
            {
                int le = labels.FindIndex(l => l.Key == "le");
                double upper = le < 0 ? double.PositiveInfinity : ParseBound(labels[le].Value);
                if (le >= 0)
                {
                    labels.RemoveAt(le);
                }

                if (current is null || current.Closed)
                {
                    current = new Metric(labels);
                    Metrics.Add(current);
                }

                current.Buckets.Add((upper, value));
                current.Count = (long)value;
            }
            else if (current is not null && sample.EndsWith("_sum", StringComparison.Ordinal))
            {
                current.Sum = value;
            }
            else if (current is not null)
            {
                current.Count = (long)value;
                current.Closed = true;
            }
        }

        private static double ParseBound(string bound) => bound == "+Inf"
            ? double.PositiveInfinity
            : double.Parse(bound, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>One series: its labels and its value, or its histogram's figures.</summary>
    private sealed class Metric(List<KeyValuePair<string, string>> labels)
    {
        public List<KeyValuePair<string, string>> Labels { get; } = labels;

        public double Value { get; set; }

        public double Sum { get; set; }

        public long Count { get; set; }

        public bool Closed { get; set; }

        public List<(double Upper, double Cumulative)> Buckets { get; } = [];
    }
}
