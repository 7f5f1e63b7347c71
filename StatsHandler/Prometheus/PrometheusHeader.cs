namespace StatsHandler;

/// <summary>
/// A family's <c># HELP</c> and <c># TYPE</c> lines, encoded once for each format. Counters differ: the text format
/// names the family after its sample (<c>x_total</c>), OpenMetrics without the suffix (<c>x</c>).
/// </summary>
internal sealed class PrometheusHeader
{
    private PrometheusHeader(byte[] text, byte[] openMetrics)
    {
        Text = text;
        OpenMetrics = openMetrics;
    }

    /// <summary>The lines for the text format 0.0.4.</summary>
    public byte[] Text { get; }

    /// <summary>The lines for OpenMetrics 1.0.</summary>
    public byte[] OpenMetrics { get; }

    /// <summary>Encodes the header of a family named <paramref name="name"/> (without <c>_total</c> for counters).</summary>
    public static PrometheusHeader Create(string name, string type, string help) =>
        new(Encode(type == "counter" ? name + "_total" : name, type, help, openMetrics: false), Encode(name, type, help, openMetrics: true));

    /// <summary>
    /// Encodes the header of an info family: OpenMetrics has the type (<c># TYPE name info</c>, samples
    /// <c>name_info</c>); the text format 0.0.4 does not, so there it is the gauge <c>name_info</c>.
    /// </summary>
    public static PrometheusHeader CreateInfo(string name, string help) =>
        new(Encode(name + "_info", "gauge", help, openMetrics: false), Encode(name, "info", help, openMetrics: true));

    /// <summary>The lines for <paramref name="openMetrics"/>'s format.</summary>
    public byte[] For(bool openMetrics) => openMetrics ? OpenMetrics : Text;

    private static byte[] Encode(string name, string type, string help, bool openMetrics)
    {
        using var buffer = new PrometheusBuffer(256);
        buffer.Write("# HELP "u8);
        buffer.WriteText(name);
        buffer.Write((byte)' ');
        buffer.WriteHelp(help, escapeQuote: openMetrics);
        buffer.Write("\n# TYPE "u8);
        buffer.WriteText(name);
        buffer.Write((byte)' ');
        buffer.WriteText(type);
        buffer.Write((byte)'\n');
        return buffer.WrittenSpan.ToArray();
    }
}
