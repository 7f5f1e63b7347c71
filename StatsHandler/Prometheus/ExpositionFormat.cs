namespace StatsHandler;

/// <summary>The Prometheus exposition formats (text 0.0.4, OpenMetrics 1.0, protobuf), and the <c>Accept</c> negotiation between them.</summary>
internal static class ExpositionFormat
{
    /// <summary>The content type of the Prometheus text format 0.0.4, served by default.</summary>
    public const string TextContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>The content type of OpenMetrics 1.0, served when the <c>Accept</c> header prefers it.</summary>
    public const string OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /// <summary>
    /// True when <paramref name="accept"/> accepts <c>application/openmetrics-text</c> (version 1.0.0 or unversioned)
    /// with a quality at least that of the plain-text format, as Prometheus's own scrape header does.
    /// </summary>
    public static bool PrefersOpenMetrics(string? accept)
    {
        if (string.IsNullOrEmpty(accept))
        {
            return false;
        }

        double openMetrics = 0;
        double text = 0;
        ReadOnlySpan<char> rest = accept;
        while (!rest.IsEmpty)
        {
            int comma = rest.IndexOf(',');
            ReadOnlySpan<char> range = comma < 0 ? rest : rest[..comma];
            rest = comma < 0 ? [] : rest[(comma + 1)..];
            ParseRange(range, out ReadOnlySpan<char> mediaType, out double quality, out bool versionOk, out _);
            if (mediaType.Equals("application/openmetrics-text", StringComparison.OrdinalIgnoreCase))
            {
                if (versionOk)
                {
                    openMetrics = Math.Max(openMetrics, quality);
                }
            }
            else if (mediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase)
                || mediaType.Equals("text/*", StringComparison.OrdinalIgnoreCase)
                || mediaType.Equals("*/*", StringComparison.OrdinalIgnoreCase))
            {
                text = Math.Max(text, quality);
            }
        }

        return openMetrics > 0 && openMetrics >= text;
    }

    /// <summary>
    /// True when <paramref name="accept"/> asks for the protobuf exposition
    /// (<c>application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited</c>) with a
    /// quality at least that of every text format it accepts, as Prometheus does with native histograms enabled. A
    /// range naming another <c>proto=</c> or <c>encoding=</c> does not count: such a client gets text.
    /// </summary>
    public static bool PrefersProtobuf(string? accept)
    {
        if (string.IsNullOrEmpty(accept) || !accept.Contains("application/vnd.google.protobuf", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        double protobuf = 0;
        double other = 0;
        ReadOnlySpan<char> rest = accept;
        while (!rest.IsEmpty)
        {
            int comma = rest.IndexOf(',');
            ReadOnlySpan<char> range = comma < 0 ? rest : rest[..comma];
            rest = comma < 0 ? [] : rest[(comma + 1)..];
            ParseRange(range, out ReadOnlySpan<char> mediaType, out double quality, out bool versionOk, out bool metricFamilies);
            if (mediaType.Equals("application/vnd.google.protobuf", StringComparison.OrdinalIgnoreCase))
            {
                if (metricFamilies)
                {
                    protobuf = Math.Max(protobuf, quality);
                }
            }
            else if ((versionOk && mediaType.Equals("application/openmetrics-text", StringComparison.OrdinalIgnoreCase))
                || mediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase))
            {
                other = Math.Max(other, quality);
            }
        }

        return protobuf > 0 && protobuf >= other;
    }

    /// <summary>
    /// Reads one media range: its type, <c>q</c>, whether its <c>version</c> is one written here (OpenMetrics 1.0.x), and
    /// whether it names the protobuf stream served (<c>proto=io.prometheus.client.MetricFamily</c> and
    /// <c>encoding=delimited</c>, both).
    /// </summary>
    private static void ParseRange(ReadOnlySpan<char> range, out ReadOnlySpan<char> mediaType, out double quality, out bool versionOk, out bool metricFamilies)
    {
        quality = 1;
        versionOk = true;
        bool proto = false;
        bool delimited = false;
        int semicolon = range.IndexOf(';');
        mediaType = (semicolon < 0 ? range : range[..semicolon]).Trim();
        ReadOnlySpan<char> parameters = semicolon < 0 ? [] : range[(semicolon + 1)..];
        while (!parameters.IsEmpty)
        {
            int next = parameters.IndexOf(';');
            ReadOnlySpan<char> parameter = (next < 0 ? parameters : parameters[..next]).Trim();
            parameters = next < 0 ? [] : parameters[(next + 1)..];
            int equals = parameter.IndexOf('=');
            if (equals < 0)
            {
                continue;
            }

            ReadOnlySpan<char> name = parameter[..equals].Trim();
            ReadOnlySpan<char> value = parameter[(equals + 1)..].Trim().Trim('"');
            if (name.Equals("q", StringComparison.OrdinalIgnoreCase))
            {
                quality = double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double q)
                    && q is >= 0 and <= 1 ? q : 0;
            }
            else if (name.Equals("version", StringComparison.OrdinalIgnoreCase))
            {
                // Only OpenMetrics 1.0.x is written; a client asking for another version only gets the text format.
                versionOk = value.StartsWith("1.0", StringComparison.Ordinal);
            }
            else if (name.Equals("proto", StringComparison.OrdinalIgnoreCase))
            {
                proto = value.Equals("io.prometheus.client.MetricFamily", StringComparison.Ordinal);
            }
            else if (name.Equals("encoding", StringComparison.OrdinalIgnoreCase))
            {
                delimited = value.Equals("delimited", StringComparison.OrdinalIgnoreCase);
            }
        }

        metricFamilies = proto && delimited;
    }
}
