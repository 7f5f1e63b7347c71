using System.Text.Json;

namespace StatsHandler;

/// <summary>
/// The JSON text of one exported instrument, encoded once on its first scrape: names and descriptions are the app's
/// text, escaped (and lone surrogates replaced, which the JSON writer would reject) once rather than per request.
/// </summary>
internal sealed class JsonInstrument
{
    public JsonInstrument(InstrumentState instrument)
    {
        var meter = instrument.Instrument;
        Meter = Encode(meter.Meter.Name);
        Name = Encode(meter.Name);
        PrometheusName = Encode(instrument.MetricName);
        Kind = Encode(MeterInstrumentKinds.Name(instrument.Kind));
        Unit = Encode(meter.Unit ?? string.Empty);
        Description = Encode(meter.Description ?? string.Empty);
    }

    public JsonEncodedText Meter { get; }

    public JsonEncodedText Name { get; }

    public JsonEncodedText PrometheusName { get; }

    public JsonEncodedText Kind { get; }

    public JsonEncodedText Unit { get; }

    public JsonEncodedText Description { get; }

    /// <summary>A histogram's bucket bounds as a one-line JSON array, formatted on the first scrape; null until then.</summary>
    public byte[]? Bounds { get; set; }

    /// <summary>A series' tags as encoded keys and values, for the series to keep.</summary>
    public static KeyValuePair<JsonEncodedText, JsonEncodedText>[] EncodeTags(TagSet tags) =>
        Array.ConvertAll(tags.Shown, static t => new KeyValuePair<JsonEncodedText, JsonEncodedText>(Encode(t.Key), Encode(t.Value)));

    private static JsonEncodedText Encode(string text) => JsonEncodedText.Encode(PublishedValue.ValidUtf16(text));
}
