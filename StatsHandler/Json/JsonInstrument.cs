using System.Text.Json;

namespace StatsHandler;

/// <summary>
/// The JSON text of one exported instrument, encoded once on its first scrape: names and descriptions are the app's
/// text, escaped (and lone surrogates replaced, which the JSON writer would reject) once rather than per request. The
/// JSON writer keeps it in its own table, keyed by the instrument.
/// </summary>
internal sealed class JsonInstrument
{
    public JsonInstrument(in InstrumentSnapshot instrument, byte[] bounds)
    {
        var meter = instrument.Instrument;
        Meter = Encode(meter.Meter.Name);
        Name = Encode(meter.Name);
        PrometheusName = Encode(instrument.PrometheusName);
        Bounds = bounds;
        Kind = Encode(InstrumentKinds.Name(instrument.Kind));
        Unit = Encode(meter.Unit ?? string.Empty);
        Description = Encode(meter.Description ?? string.Empty);
    }

    public JsonEncodedText Meter { get; }

    public JsonEncodedText Name { get; }

    public JsonEncodedText PrometheusName { get; }

    public JsonEncodedText Kind { get; }

    public JsonEncodedText Unit { get; }

    public JsonEncodedText Description { get; }

    /// <summary>The bucket bounds as a one-line JSON array (<c>[]</c> for an instrument that is not a histogram).</summary>
    public byte[] Bounds { get; }

    /// <summary>A series' tags as encoded keys and values, for the writer's table.</summary>
    public static KeyValuePair<JsonEncodedText, JsonEncodedText>[] EncodeTags(KeyValuePair<string, string>[] tags) =>
        Array.ConvertAll(tags, static t => new KeyValuePair<JsonEncodedText, JsonEncodedText>(Encode(t.Key), Encode(t.Value)));

    private static JsonEncodedText Encode(string text) => JsonEncodedText.Encode(PublishedValue.ValidUtf16(text));
}
