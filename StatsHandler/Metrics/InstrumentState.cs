using System.Buffers;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Numerics;

namespace StatsHandler;

/// <summary>
/// The aggregated state of one exported instrument: a series per distinct tag set, capped, with the measurements of
/// any thread folded in under a lock. Readers lock <see cref="SyncRoot"/> and walk <see cref="Series"/>.
/// </summary>
internal sealed class InstrumentState
{
    /// <summary>OpenTelemetry's default bucket bounds, for histograms with no advice and a unit other than seconds.</summary>
    private static readonly double[] DefaultBounds = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    /// <summary>Prometheus's default bucket bounds, for histograms in seconds with no advice.</summary>
    private static readonly double[] DefaultSecondsBounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Lock _lock = new();
    private readonly Dictionary<string, MeterSeries> _series = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MeterSeries>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly List<MeterSeries> _ordered = [];
    private readonly Func<int> _maxSeries;
    private MeterSeries? _untagged;
    private long _dropped;

    public InstrumentState(Instrument instrument, MeterInstrumentKind kind, string metricName, Func<int> maxSeries)
    {
        Instrument = instrument;
        Kind = kind;
        MetricName = metricName;
        _maxSeries = maxSeries;
        _lookup = _series.GetAlternateLookup<ReadOnlySpan<char>>();
        IsCounter = kind is MeterInstrumentKind.Counter or MeterInstrumentKind.ObservableCounter;
        Bounds = kind == MeterInstrumentKind.Histogram ? ChooseBounds(instrument) : [];
        Scale = PrometheusNames.UnitScale(instrument.Unit);
        string type = IsCounter ? "counter" : kind == MeterInstrumentKind.Histogram ? "histogram" : "gauge";
        string help = string.IsNullOrWhiteSpace(instrument.Description)
            ? $"{instrument.Name} ({KindName}{(string.IsNullOrEmpty(instrument.Unit) ? string.Empty : ", unit " + instrument.Unit)}) of meter {instrument.Meter.Name}."
            : instrument.Description;
        Header = PrometheusHeader.Create(metricName, type, help);
        SampleName = System.Text.Encoding.UTF8.GetBytes(IsCounter ? metricName + "_total" : metricName);
        TextBucketLabels = EncodeBounds(Bounds, Scale, openMetrics: false);
        OpenMetricsBucketLabels = EncodeBounds(Bounds, Scale, openMetrics: true);
    }

    public Instrument Instrument { get; }

    public MeterInstrumentKind Kind { get; }

    /// <summary>The family name in Prometheus (for counters without <c>_total</c>).</summary>
    public string MetricName { get; }

    /// <summary>The name of the samples: <see cref="MetricName"/>, plus <c>_total</c> for counters.</summary>
    public byte[] SampleName { get; }

    public bool IsCounter { get; }

    public PrometheusHeader Header { get; }

    /// <summary>
    /// What a value in the instrument's unit is multiplied by in the Prometheus output, which uses base units
    /// (0.001 for <c>ms</c>); the JSON document keeps the instrument's own unit.
    /// </summary>
    public double Scale { get; }

    /// <summary>Histogram bucket upper bounds in the instrument's unit, increasing and finite; the <c>+Inf</c> bucket is implied.</summary>
    public double[] Bounds { get; }

    /// <summary><c>le="..."</c> for each bound, then <c>le="+Inf"</c>, in the text format's spelling.</summary>
    public byte[][] TextBucketLabels { get; }

    /// <summary><c>le="..."</c> for each bound, then <c>le="+Inf"</c>, in OpenMetrics' canonical spelling.</summary>
    public byte[][] OpenMetricsBucketLabels { get; }

    /// <summary>The kind as the JSON document names it, e.g. <c>observable_gauge</c>.</summary>
    public string KindName => Kind switch
    {
        MeterInstrumentKind.Counter => "counter",
        MeterInstrumentKind.UpDownCounter => "up_down_counter",
        MeterInstrumentKind.Gauge => "gauge",
        MeterInstrumentKind.ObservableCounter => "observable_counter",
        MeterInstrumentKind.ObservableUpDownCounter => "observable_up_down_counter",
        MeterInstrumentKind.ObservableGauge => "observable_gauge",
        _ => "histogram",
    };

    /// <summary>Lock this to read <see cref="Series"/> and the values in it.</summary>
    public Lock SyncRoot => _lock;

    /// <summary>The series in the order they first appeared. Read under <see cref="SyncRoot"/>.</summary>
    public List<MeterSeries> Series => _ordered;

    /// <summary>Series not created because the instrument already had the maximum number.</summary>
    public long DroppedSeries => Interlocked.Read(ref _dropped);

    /// <summary>Folds one measurement in. Called by the listener on whatever thread measured.</summary>
    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            lock (_lock)
            {
                MeterSeries? series = _untagged ??= TryAdd(string.Empty, tags);
                if (series is not null)
                {
                    Apply(series, value);
                }
            }

            return;
        }

        char[]? rented = null;
        Span<char> key = stackalloc char[256];
        Span<int> order = tags.Length <= 16 ? stackalloc int[tags.Length] : new int[tags.Length];
        SortByKey(tags, order);
        int length;
        while ((length = TryWriteKey(tags, order, key)) < 0)
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }

            rented = ArrayPool<char>.Shared.Rent(key.Length * 4);
            key = rented;
        }

        try
        {
            ReadOnlySpan<char> written = key[..length];
            lock (_lock)
            {
                if (!_lookup.TryGetValue(written, out MeterSeries? series))
                {
                    series = TryAdd(written.ToString(), tags, order);
                }

                if (series is not null)
                {
                    Apply(series, value);
                }
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private MeterSeries? TryAdd(string key, ReadOnlySpan<KeyValuePair<string, object?>> tags, ReadOnlySpan<int> order = default)
    {
        if (_ordered.Count >= _maxSeries())
        {
            _dropped++;
            return null;
        }

        var pairs = new List<KeyValuePair<string, string>>(order.Length);
        string? previous = null;
        foreach (int i in order)
        {
            // The same rule as TryWriteKey: a null key is an empty one, and a repeated key keeps its first value.
            string name = tags[i].Key ?? string.Empty;
            if (name == previous)
            {
                continue;
            }

            previous = name;
            pairs.Add(new(PublishedValue.ValidUtf16(name), PublishedValue.ValidUtf16(FormatValue(tags[i].Value))));
        }

        var series = new MeterSeries([.. pairs], EncodeLabels(pairs), Kind == MeterInstrumentKind.Histogram ? Bounds.Length + 1 : 0);
        _series[key] = series;
        _ordered.Add(series);
        return series;
    }

    private void Apply(MeterSeries series, double value)
    {
        switch (Kind)
        {
            case MeterInstrumentKind.Counter:
                // A counter never goes down: a negative or NaN increment would break every rate computed from it.
                if (value >= 0)
                {
                    series.Value += value;
                }

                break;
            case MeterInstrumentKind.UpDownCounter:
                series.Value += value;
                break;
            case MeterInstrumentKind.ObservableCounter:
                // An observed total below zero (or NaN) is no count; OpenMetrics forbids such a counter value.
                if (value >= 0)
                {
                    series.Value = value;
                }

                break;
            case MeterInstrumentKind.Histogram:
                series.Count++;
                series.Sum += value;
                series.Buckets[BucketIndex(value)]++;
                break;
            default:
                series.Value = value;
                break;
        }
    }

    private int BucketIndex(double value)
    {
        if (double.IsNaN(value))
        {
            // NaN is below or above nothing: count it in the +Inf bucket only, so that bucket still equals _count.
            return Bounds.Length;
        }

        int index = Array.BinarySearch(Bounds, value);
        return index >= 0 ? index : ~index;
    }

    private byte[] EncodeLabels(List<KeyValuePair<string, string>> tags)
    {
        if (tags.Count == 0)
        {
            return [];
        }

        // Prometheus names may collide once sanitised ("a.b" and "a_b"): join their values with ';' as OpenTelemetry does.
        var labels = new List<KeyValuePair<string, string>>(tags.Count);
        foreach (KeyValuePair<string, string> tag in tags)
        {
            string name = PrometheusNames.LabelName(tag.Key);
            if (name == "le" && Kind == MeterInstrumentKind.Histogram)
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

    private static void SortByKey(ReadOnlySpan<KeyValuePair<string, object?>> tags, Span<int> order)
    {
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        // Insertion sort: tag sets are small, and this allocates nothing.
        for (int i = 1; i < order.Length; i++)
        {
            int current = order[i];
            int j = i - 1;
            while (j >= 0 && string.CompareOrdinal(tags[order[j]].Key, tags[current].Key) > 0)
            {
                order[j + 1] = order[j];
                j--;
            }

            order[j + 1] = current;
        }
    }

    /// <summary>
    /// Writes an unambiguous key for the tag set: for each distinct key, its length and text, then its value's length
    /// and text (lengths as two raw chars). Returns -1 when <paramref name="key"/> is too small.
    /// </summary>
    private static int TryWriteKey(ReadOnlySpan<KeyValuePair<string, object?>> tags, ReadOnlySpan<int> order, Span<char> key)
    {
        int at = 0;
        string? previous = null;
        foreach (int i in order)
        {
            string name = tags[i].Key ?? string.Empty;
            if (name == previous)
            {
                continue;
            }

            previous = name;
            if (!TryWriteComponent(name, key, ref at))
            {
                return -1;
            }

            if (key.Length - at < 2)
            {
                return -1;
            }

            int lengthAt = at;
            at += 2;
            if (!TryFormatValue(tags[i].Value, key[at..], out int written))
            {
                return -1;
            }

            key[lengthAt] = (char)(written & 0xFFFF);
            key[lengthAt + 1] = (char)(written >> 16);
            at += written;
        }

        return at;
    }

    private static bool TryWriteComponent(string text, Span<char> key, ref int at)
    {
        if (key.Length - at < text.Length + 2)
        {
            return false;
        }

        key[at] = (char)(text.Length & 0xFFFF);
        key[at + 1] = (char)(text.Length >> 16);
        text.CopyTo(key[(at + 2)..]);
        at += text.Length + 2;
        return true;
    }

    private static bool TryFormatValue(object? value, Span<char> destination, out int written)
    {
        switch (value)
        {
            case null:
                written = 0;
                return true;
            case string s:
                written = s.Length;
                return s.TryCopyTo(destination);
            case bool b:
                string text = b ? "true" : "false";
                written = text.Length;
                return text.TryCopyTo(destination);
            case ISpanFormattable formattable:
                return formattable.TryFormat(destination, out written, default, CultureInfo.InvariantCulture);
            default:
                string other = Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
                written = other.Length;
                return other.TryCopyTo(destination);
        }
    }

    private static string FormatValue(object? value) => value switch
    {
        null => string.Empty,
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
    };

    private static double[] ChooseBounds(Instrument instrument)
    {
        IReadOnlyList<double>? advised = instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries,
            Histogram<float> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
            Histogram<long> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
            Histogram<int> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
            Histogram<short> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
            Histogram<byte> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
            Histogram<decimal> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
            _ => null,
        };

        if (advised is not null)
        {
            // Advice is the instrument author's; keep what makes valid buckets (finite, increasing, distinct).
            var bounds = new SortedSet<double>();
            foreach (double bound in advised)
            {
                if (double.IsFinite(bound))
                {
                    bounds.Add(bound);
                }
            }

            if (bounds.Count > 0)
            {
                return [.. bounds];
            }
        }

        return instrument.Unit == "s" ? DefaultSecondsBounds : DefaultBounds;
    }

    private static double[]? ToDoubles<T>(IReadOnlyList<T>? bounds)
        where T : struct, INumberBase<T>
    {
        if (bounds is null)
        {
            return null;
        }

        var result = new double[bounds.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = double.CreateSaturating(bounds[i]);
        }

        return result;
    }

    private static byte[][] EncodeBounds(double[] bounds, double scale, bool openMetrics)
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
