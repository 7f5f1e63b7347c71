using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace StatsHandler;

/// <summary>
/// Writes a <see cref="StatsSnapshot"/> as the JSON document: the runtime keys (<see cref="RuntimeStatsJsonWriter"/>),
/// then the exported meters (<c>meters</c>) and the published values (<c>published</c>). A pure function of the
/// snapshot, except for what it encodes once and keeps in its own tables, keyed by instrument, series and published
/// value (never on them). A number that is not finite is written as <c>null</c>, here as in the runtime keys.
/// One per handler; thread-safe.
/// </summary>
internal sealed class JsonStatsWriter
{
    private static readonly JsonEncodedText MetersKey = JsonEncodedText.Encode("meters");
    private static readonly JsonEncodedText PublishedKey = JsonEncodedText.Encode("published");
    private static readonly JsonEncodedText MeterKey = JsonEncodedText.Encode("meter");
    private static readonly JsonEncodedText NameKey = JsonEncodedText.Encode("name");
    private static readonly JsonEncodedText PrometheusNameKey = JsonEncodedText.Encode("prometheus_name");
    private static readonly JsonEncodedText KindKey = JsonEncodedText.Encode("kind");
    private static readonly JsonEncodedText UnitKey = JsonEncodedText.Encode("unit");
    private static readonly JsonEncodedText DescriptionKey = JsonEncodedText.Encode("description");
    private static readonly JsonEncodedText DroppedKey = JsonEncodedText.Encode("dropped_series");
    private static readonly JsonEncodedText BoundsKey = JsonEncodedText.Encode("bounds");
    private static readonly JsonEncodedText SeriesKey = JsonEncodedText.Encode("series");
    private static readonly JsonEncodedText TagsKey = JsonEncodedText.Encode("tags");
    private static readonly JsonEncodedText ValueKey = JsonEncodedText.Encode("value");
    private static readonly JsonEncodedText CountKey = JsonEncodedText.Encode("count");
    private static readonly JsonEncodedText SumKey = JsonEncodedText.Encode("sum");
    private static readonly JsonEncodedText BucketCountsKey = JsonEncodedText.Encode("bucket_counts");
    private static readonly JsonEncodedText MeanKey = JsonEncodedText.Encode("mean");
    private static readonly JsonEncodedText P50Key = JsonEncodedText.Encode("p50");
    private static readonly JsonEncodedText P90Key = JsonEncodedText.Encode("p90");
    private static readonly JsonEncodedText P99Key = JsonEncodedText.Encode("p99");
    private static readonly JsonEncodedText ExponentialKey = JsonEncodedText.Encode("exponential");
    private static readonly JsonEncodedText ScaleKey = JsonEncodedText.Encode("scale");
    private static readonly JsonEncodedText ZeroCountKey = JsonEncodedText.Encode("zero_count");
    private static readonly JsonEncodedText PositiveOffsetKey = JsonEncodedText.Encode("positive_offset");
    private static readonly JsonEncodedText PositiveKey = JsonEncodedText.Encode("positive");
    private static readonly JsonEncodedText NegativeOffsetKey = JsonEncodedText.Encode("negative_offset");
    private static readonly JsonEncodedText NegativeKey = JsonEncodedText.Encode("negative");

    private readonly ConditionalWeakTable<Instrument, JsonInstrument> _instruments = [];
    private readonly ConditionalWeakTable<KeyValuePair<string, string>[], KeyValuePair<JsonEncodedText, JsonEncodedText>[]> _tags = [];
    private readonly ConditionalWeakTable<PublishedValue, StrongBox<JsonEncodedText>> _publishedNames = [];

    /// <summary>The last <c>gc_pause</c> array formatted, and the array it was formatted from.</summary>
    private CachedForm<double[], byte[]>? _pauses;

    /// <summary>The last GC event arrays formatted, and the log snapshot they were formatted from.</summary>
    private CachedForm<GcEventSnapshot, byte[][]>? _gcEvents;

    /// <summary>Writes the whole document.</summary>
    public void Write(Utf8JsonWriter w, StatsSnapshot snapshot)
    {
        w.WriteStartObject();
        RuntimeStats stats = snapshot.Runtime;
        RuntimeStatsJsonWriter.WriteFields(w, in stats, this, snapshot.GcEvents);
        if (snapshot.ExportsMeters)
        {
            w.WriteStartArray(MetersKey);
            foreach (ref readonly InstrumentSnapshot instrument in snapshot.Instruments)
            {
                WriteInstrument(w, in instrument);
            }

            w.WriteEndArray();
        }

        ReadOnlySpan<PublishedSnapshot> published = snapshot.Published;
        if (!published.IsEmpty)
        {
            w.WriteStartObject(PublishedKey);
            foreach (ref readonly PublishedSnapshot value in published)
            {
                WritePublished(w, in value);
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    /// <summary>The <c>gc_pause</c> array's bytes for <paramref name="pauses"/>, formatted when the probe hands out a new array.</summary>
    internal byte[] PauseArray(double[] pauses)
    {
        CachedForm<double[], byte[]>? entry = Volatile.Read(ref _pauses);
        if (entry is null || !ReferenceEquals(entry.Source, pauses))
        {
            entry = new CachedForm<double[], byte[]>(pauses, RuntimeStatsJsonWriter.PauseArray(pauses));
            Volatile.Write(ref _pauses, entry);
        }

        return entry.Form;
    }

    /// <summary>The GC event arrays for <paramref name="snapshot"/>, formatted once per collection (the log hands out one snapshot between collections).</summary>
    internal byte[][] GcEventArrays(GcEventSnapshot snapshot)
    {
        CachedForm<GcEventSnapshot, byte[][]>? entry = Volatile.Read(ref _gcEvents);
        if (entry is null || !ReferenceEquals(entry.Source, snapshot))
        {
            entry = new CachedForm<GcEventSnapshot, byte[][]>(snapshot, GcEventJsonWriter.Render(snapshot.Recent));
            Volatile.Write(ref _gcEvents, entry);
        }

        return entry.Form;
    }

    private void WritePublished(Utf8JsonWriter w, in PublishedSnapshot value)
    {
        StrongBox<JsonEncodedText> name = _publishedNames.TryGetValue(value.Source, out StrongBox<JsonEncodedText>? known)
            ? known
            : _publishedNames.GetValue(value.Source, static v => new StrongBox<JsonEncodedText>(JsonEncodedText.Encode(v.Name)));
        w.WritePropertyName(name.Value);
        switch (value.Kind)
        {
            case PublishedKind.WholeNumber:
                w.WriteNumberValue(value.WholeNumber);
                break;
            case PublishedKind.Number:
                Number(w, value.Number);
                break;
            case PublishedKind.Boolean:
                w.WriteBooleanValue(value.Boolean);
                break;
            default:
                if (value.Text is null)
                {
                    w.WriteNullValue();
                }
                else
                {
                    w.WriteStringValue(value.Text);
                }

                break;
        }
    }

    private void WriteInstrument(Utf8JsonWriter w, in InstrumentSnapshot instrument)
    {
        // The instrument's text is encoded on its first scrape and kept, so a scrape escapes no string twice.
        JsonInstrument form = _instruments.TryGetValue(instrument.Instrument, out JsonInstrument? known) ? known : Encode(instrument);
        w.WriteStartObject();
        w.WriteString(MeterKey, form.Meter);
        w.WriteString(NameKey, form.Name);
        w.WriteString(PrometheusNameKey, form.PrometheusName);
        w.WriteString(KindKey, form.Kind);
        w.WriteString(UnitKey, form.Unit);
        w.WriteString(DescriptionKey, form.Description);
        w.WriteNumber(DroppedKey, instrument.DroppedSeries);
        bool histogram = instrument.Kind == InstrumentKind.Histogram;
        if (histogram)
        {
            w.WritePropertyName(BoundsKey);
            w.WriteRawValue(form.Bounds, skipInputValidation: true);
        }

        w.WriteStartArray(SeriesKey);
        foreach (ref readonly SeriesSnapshot series in instrument.Series)
        {
            w.WriteStartObject();
            w.WriteStartObject(TagsKey);
            foreach (KeyValuePair<JsonEncodedText, JsonEncodedText> tag in TagsOf(in series))
            {
                w.WriteString(tag.Key, tag.Value);
            }

            w.WriteEndObject();
            if (histogram)
            {
                ReadOnlySpan<long> buckets = series.BucketCounts;
                ExponentialHistogram exponential = series.Exponential;
                w.WriteNumber(CountKey, series.Count);
                w.WritePropertyName(SumKey);
                Number(w, series.Sum);

                // Estimates over everything recorded since the start: the quantiles from the exponential buckets, whose
                // resolution does not depend on the classic bounds.
                w.WritePropertyName(MeanKey);
                Estimate(w, HistogramEstimates.Mean(series.Sum, series.Count));
                w.WritePropertyName(P50Key);
                Estimate(w, HistogramEstimates.Quantile(0.5, exponential));
                w.WritePropertyName(P90Key);
                Estimate(w, HistogramEstimates.Quantile(0.9, exponential));
                w.WritePropertyName(P99Key);
                Estimate(w, HistogramEstimates.Quantile(0.99, exponential));
                OneLineArray(w, BucketCountsKey, [], buckets);
                WriteExponential(w, exponential);
            }
            else
            {
                w.WritePropertyName(ValueKey);
                Number(w, series.Value);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private KeyValuePair<JsonEncodedText, JsonEncodedText>[] TagsOf(in SeriesSnapshot series)
    {
        KeyValuePair<string, string>[] tags = series.TagArray;
        if (tags.Length == 0)
        {
            return [];
        }

        return _tags.TryGetValue(tags, out KeyValuePair<JsonEncodedText, JsonEncodedText>[]? known)
            ? known
            : _tags.GetValue(tags, static t => JsonInstrument.EncodeTags(t));
    }

    // The miss apart, so the hit path allocates no closure.
    private JsonInstrument Encode(InstrumentSnapshot instrument) =>
        _instruments.GetValue(instrument.Instrument, _ => new JsonInstrument(in instrument, OneLineArray(instrument.Bounds)));

    /// <summary>Writes <c>exponential</c>: the scale, the zero bucket, and each sign's offset and consecutive bucket counts.</summary>
    private static void WriteExponential(Utf8JsonWriter w, ExponentialHistogram h)
    {
        w.WriteStartObject(ExponentialKey);
        w.WriteNumber(ScaleKey, h.Scale);
        w.WriteNumber(ZeroCountKey, h.ZeroCount);
        w.WriteNumber(PositiveOffsetKey, h.PositiveOffset);
        OneLineArray(w, PositiveKey, [], h.Positive);
        w.WriteNumber(NegativeOffsetKey, h.NegativeOffset);
        OneLineArray(w, NegativeKey, [], h.Negative);
        w.WriteEndObject();
    }

    /// <summary>
    /// Writes the doubles, or else the longs, as one compact array, so <c>?pp=1</c> keeps it on one line as it keeps
    /// <c>gc_pause</c>: an indented array puts each number on a line of its own.
    /// </summary>
    private static void OneLineArray(Utf8JsonWriter w, JsonEncodedText key, ReadOnlySpan<double> doubles, ReadOnlySpan<long> longs)
    {
        // The shortest round-trip form of a double is at most 24 bytes, a long 20; plus a comma each.
        int most = 2 + (25 * (doubles.Length + longs.Length));
        byte[]? rented = most > 512 ? ArrayPool<byte>.Shared.Rent(most) : null;
        Span<byte> buffer = rented is not null ? rented : stackalloc byte[512];
        int n = FormatArray(buffer, doubles, longs);
        w.WritePropertyName(key);
        w.WriteRawValue(buffer[..n], skipInputValidation: true);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The one-line JSON array of <paramref name="doubles"/>, as bytes to keep.</summary>
    private static byte[] OneLineArray(ReadOnlySpan<double> doubles)
    {
        var buffer = new byte[2 + (25 * doubles.Length)];
        return buffer.AsSpan(0, FormatArray(buffer, doubles, [])).ToArray();
    }

    private static int FormatArray(Span<byte> buffer, ReadOnlySpan<double> doubles, ReadOnlySpan<long> longs)
    {
        int n = 0;
        buffer[n++] = (byte)'[';
        foreach (double value in doubles)
        {
            // Bounds are finite (the bridge checks them), so every one is a valid JSON number.
            n += Comma(buffer, n);
            value.TryFormat(buffer[n..], out int written, default, CultureInfo.InvariantCulture);
            n += written;
        }

        foreach (long value in longs)
        {
            n += Comma(buffer, n);
            Utf8Formatter.TryFormat(value, buffer[n..], out int written);
            n += written;
        }

        buffer[n++] = (byte)']';
        return n;
    }

    private static int Comma(Span<byte> buffer, int at)
    {
        if (at == 1)
        {
            return 0;
        }

        buffer[at] = (byte)',';
        return 1;
    }

    /// <summary>
    /// Writes an estimate to six significant digits: an estimate with bucket resolution has no use for seventeen. Null
    /// when there is no number (no measurement yet).
    /// </summary>
    private static void Estimate(Utf8JsonWriter w, double value)
    {
        if (!double.IsFinite(value) || value == 0)
        {
            Number(w, value);
            return;
        }

        int decimals = 5 - (int)Math.Floor(Math.Log10(Math.Abs(value)));
        if (decimals > 6)
        {
            // Below 0.01: more decimals than fixed point writes.
            Number(w, Math.Round(value, Math.Min(decimals, 15)));
        }
        else if (decimals >= 0)
        {
            FixedPointJson.WriteValue(w, value, decimals);
        }
        else
        {
            // A million or more: the six leading digits, then zeros (a whole number, exact in a double below 2^53).
            double scale = Math.Pow(10, -decimals);
            FixedPointJson.WriteValue(w, Math.Round(value / scale) * scale, 0);
        }
    }

    /// <summary>Writes a number, or <c>null</c> for NaN and the infinities: the document's one rule for numbers that are not finite.</summary>
    internal static void Number(Utf8JsonWriter w, double value)
    {
        // JSON has no NaN or Infinity; null says "no number" and keeps every parser happy.
        if (double.IsFinite(value))
        {
            w.WriteNumberValue(value);
        }
        else
        {
            w.WriteNullValue();
        }
    }
}
