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

    /// <summary>
    /// Encodes the header of a family named <paramref name="name"/> (without <c>_total</c> for counters, <c>_info</c>
    /// for info families). The text format 0.0.4 names a counter after its samples, and has no info type: there an info
    /// family is the gauge <c>name_info</c>.
    /// </summary>
    public static PrometheusHeader Create(string name, string type, string help) => new(
        Encode(PrometheusNames.SampleName(name, type), type == PrometheusNames.Info ? PrometheusNames.Gauge : type, help, openMetrics: false),
        Encode(name, type, help, openMetrics: true));

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
