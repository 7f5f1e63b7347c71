namespace StatsHandler;

/// <summary>Reads flags from a raw request target without allocating, and without trusting its encoding.</summary>
internal static class QueryString
{
    /// <summary>
    /// True when the first <paramref name="name"/> parameter of <paramref name="rawUrl"/>'s query is <c>1</c> or
    /// <c>true</c> (any case, percent-encoded or not). Anything else, including malformed text, is false.
    /// </summary>
    public static bool IsTrue(string? rawUrl, string name)
    {
        if (!TryGet(rawUrl, name, out ReadOnlySpan<char> value))
        {
            return false;
        }

        if (value.Contains('%'))
        {
            value = Uri.UnescapeDataString(value.ToString());
        }

        return value is "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Finds the raw value of the first <paramref name="name"/> parameter.</summary>
    public static bool TryGet(string? rawUrl, string name, out ReadOnlySpan<char> value)
    {
        value = default;
        if (rawUrl is null)
        {
            return false;
        }

        int question = rawUrl.IndexOf('?', StringComparison.Ordinal);
        if (question < 0)
        {
            return false;
        }

        ReadOnlySpan<char> query = rawUrl.AsSpan(question + 1);
        int hash = query.IndexOf('#');
        if (hash >= 0)
        {
            query = query[..hash];
        }

        foreach (Range range in query.Split('&'))
        {
            ReadOnlySpan<char> pair = query[range];
            int equals = pair.IndexOf('=');
            ReadOnlySpan<char> key = equals < 0 ? pair : pair[..equals];
            if (key.SequenceEqual(name))
            {
                value = equals < 0 ? [] : pair[(equals + 1)..];
                return true;
            }
        }

        return false;
    }
}
