using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;

namespace StatsHandler;

/// <summary>
/// Writes a server's exported meters (<c>meters</c>) and published values (<c>published</c>) after the runtime keys.
/// NaN and infinite values are written as <c>null</c>, so the document stays valid JSON.
/// </summary>
internal static class ExportsJsonWriter
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

    /// <summary>
    /// Writes <c>meters</c> when the server exports meters, then <c>published</c> when it has published values. A
    /// published value whose callback throws is left out and reported.
    /// </summary>
    public static void Write(Utf8JsonWriter w, StatsRegistry exports)
    {
        MeterBridge? meters = exports.Meters;
        if (meters is not null)
        {
            w.WriteStartArray(MetersKey);
            foreach (InstrumentState instrument in meters.Instruments)
            {
                WriteInstrument(w, instrument);
            }

            w.WriteEndArray();
        }

        PublishedValue[] published = exports.Published;
        if (published.Length == 0)
        {
            return;
        }

        w.WriteStartObject(PublishedKey);
        foreach (PublishedValue value in published)
        {
            if (!value.TryRead(out PublishedReading reading, out Exception? error))
            {
                exports.Report(error!);
                continue;
            }

            w.WritePropertyName(value.JsonName);
            switch (reading.Kind)
            {
                case PublishedKind.Integer:
                    w.WriteNumberValue(reading.Integer);
                    break;
                case PublishedKind.Number:
                    Number(w, reading.Number);
                    break;
                case PublishedKind.Boolean:
                    w.WriteBooleanValue(reading.Integer != 0);
                    break;
                default:
                    if (reading.Text is null)
                    {
                        w.WriteNullValue();
                    }
                    else
                    {
                        w.WriteStringValue(reading.Text);
                    }

                    break;
            }
        }

        w.WriteEndObject();
    }

    private static void WriteInstrument(Utf8JsonWriter w, InstrumentState instrument)
    {
        // The instrument's text is encoded on its first scrape and kept, so a scrape escapes no string twice.
        JsonInstrument form = instrument.JsonForm ??= new JsonInstrument(instrument);
        w.WriteStartObject();
        w.WriteString(MeterKey, form.Meter);
        w.WriteString(NameKey, form.Name);
        w.WriteString(PrometheusNameKey, form.PrometheusName);
        w.WriteString(KindKey, form.Kind);
        w.WriteString(UnitKey, form.Unit);
        w.WriteString(DescriptionKey, form.Description);
        w.WriteNumber(DroppedKey, instrument.DroppedSeries);
        bool histogram = instrument.Kind == MeterInstrumentKind.Histogram;
        if (histogram)
        {
            // The bounds never change: formatted on the first scrape, with the instrument's text.
            w.WritePropertyName(BoundsKey);
            w.WriteRawValue(form.Bounds ??= OneLineArray(instrument.Bounds), skipInputValidation: true);
        }

        w.WriteStartArray(SeriesKey);
        int bucketCount = histogram ? instrument.Bounds.Length + 1 : 0;
        long[]? rented = bucketCount > 64 ? ArrayPool<long>.Shared.Rent(bucketCount) : null;
        Span<long> buckets = rented is null ? stackalloc long[bucketCount] : rented.AsSpan(0, bucketCount);

        // No lock: each series' figures are copied as they are written, so a scrape never makes a Record wait.
        foreach (MeterSeries series in instrument.Series)
        {
            w.WriteStartObject();
            w.WriteStartObject(TagsKey);
            foreach (KeyValuePair<JsonEncodedText, JsonEncodedText> tag in series.JsonTags ??= JsonInstrument.EncodeTags(series.Tags))
            {
                w.WriteString(tag.Key, tag.Value);
            }

            w.WriteEndObject();
            if (histogram)
            {
                long count = series.ReadHistogram(buckets, out double sum);
                w.WriteNumber(CountKey, count);
                w.WritePropertyName(SumKey);
                Number(w, sum);

                // Estimates over everything recorded since the start, with the buckets' resolution, from this one copy.
                w.WritePropertyName(MeanKey);
                Estimate(w, HistogramEstimates.Mean(sum, count));
                w.WritePropertyName(P50Key);
                Estimate(w, HistogramEstimates.Quantile(0.5, instrument.Bounds, buckets));
                w.WritePropertyName(P90Key);
                Estimate(w, HistogramEstimates.Quantile(0.9, instrument.Bounds, buckets));
                w.WritePropertyName(P99Key);
                Estimate(w, HistogramEstimates.Quantile(0.99, instrument.Bounds, buckets));
                OneLineArray(w, BucketCountsKey, [], buckets);
            }
            else
            {
                w.WritePropertyName(ValueKey);
                Number(w, series.Value);
            }

            w.WriteEndObject();
        }

        if (rented is not null)
        {
            ArrayPool<long>.Shared.Return(rented);
        }

        w.WriteEndArray();
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

    private static void Number(Utf8JsonWriter w, double value)
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
