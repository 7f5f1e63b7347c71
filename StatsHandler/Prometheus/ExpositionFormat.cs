namespace StatsHandler;

/// <summary>The two Prometheus exposition formats, and the <c>Accept</c> negotiation between them.</summary>
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
            ParseRange(range, out ReadOnlySpan<char> mediaType, out double quality, out bool versionOk);
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

    private static void ParseRange(ReadOnlySpan<char> range, out ReadOnlySpan<char> mediaType, out double quality, out bool versionOk)
    {
        quality = 1;
        versionOk = true;
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
        }
    }
}
