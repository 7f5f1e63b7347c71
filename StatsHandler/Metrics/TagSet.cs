using System.Globalization;

namespace StatsHandler;

/// <summary>
/// The one rule for which measurements share a series: the same set of tag keys with the same values written as text,
/// in any order. A null key is an empty one; a key given twice keeps its first value; a value is its invariant-culture
/// text (<c>200</c> and <c>"200"</c> are one series), null is empty.
/// </summary>
/// <remarks>
/// The record path hashes and compares the measurement's own span of tags against a series' stored text, so finding
/// an existing series allocates nothing for strings, booleans, numbers and other <see cref="ISpanFormattable"/> values
/// of up to 64 characters; other values are formatted into a string.
/// </remarks>
internal sealed class TagSet
{
    private const int ScratchLength = 64;

    private TagSet(string[] keys, string[] values, int hash)
    {
        Keys = keys;
        Values = values;
        Hash = hash;
        var shown = new KeyValuePair<string, string>[keys.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            shown[i] = new(PublishedValue.ValidUtf16(keys[i]), PublishedValue.ValidUtf16(values[i]));
        }

        Shown = shown;
    }

    /// <summary>The set with no tags.</summary>
    public static TagSet Empty { get; } = new([], [], 0);

    /// <summary>The distinct keys, sorted ordinally, as measured.</summary>
    public string[] Keys { get; }

    /// <summary>The value of each key, as text, as measured.</summary>
    public string[] Values { get; }

    /// <summary>The tags for output, sorted by key, lone surrogates replaced (the JSON writer and UTF-8 reject them).</summary>
    public KeyValuePair<string, string>[] Shown { get; }

    /// <summary>The hash <see cref="HashOf"/> gives for any span of tags in this set.</summary>
    public int Hash { get; }

    /// <summary>A hash of the set: equal for equal sets whatever the order. Allocates nothing for common value types.</summary>
    public static int HashOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        Span<char> scratch = stackalloc char[ScratchLength];
        int hash = 0;
        for (int i = 0; i < tags.Length; i++)
        {
            string key = tags[i].Key ?? string.Empty;
            if (IsRepeated(tags, i, key))
            {
                continue;
            }

            // A sum of per-tag hashes does not depend on the order the app passed the tags in.
            hash += HashCode.Combine(string.GetHashCode(key.AsSpan()), string.GetHashCode(Text(tags[i].Value, scratch)));
        }

        return hash;
    }

    /// <summary>True when <paramref name="tags"/> is this set.</summary>
    public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        Span<char> scratch = stackalloc char[ScratchLength];
        int distinct = 0;
        for (int i = 0; i < tags.Length; i++)
        {
            string key = tags[i].Key ?? string.Empty;
            if (IsRepeated(tags, i, key))
            {
                continue;
            }

            distinct++;
            int at = IndexOf(key);
            if (at < 0 || !Text(tags[i].Value, scratch).SequenceEqual(Values[at]))
            {
                return false;
            }
        }

        return distinct == Keys.Length;
    }

    /// <summary>Stores <paramref name="tags"/> as a set (called once per new series).</summary>
    public static TagSet Create(ReadOnlySpan<KeyValuePair<string, object?>> tags, int hash)
    {
        Span<char> scratch = stackalloc char[ScratchLength];
        var pairs = new List<KeyValuePair<string, string>>(tags.Length);
        for (int i = 0; i < tags.Length; i++)
        {
            string key = tags[i].Key ?? string.Empty;
            if (!IsRepeated(tags, i, key))
            {
                pairs.Add(new(key, Text(tags[i].Value, scratch).ToString()));
            }
        }

        pairs.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return new TagSet(pairs.ConvertAll(p => p.Key).ToArray(), pairs.ConvertAll(p => p.Value).ToArray(), hash);
    }

    private int IndexOf(string key)
    {
        string[] keys = Keys;
        for (int i = 0; i < keys.Length; i++)
        {
            if (string.Equals(keys[i], key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>True when a tag before <paramref name="index"/> has the same key: only a key's first value counts.</summary>
    private static bool IsRepeated(ReadOnlySpan<KeyValuePair<string, object?>> tags, int index, string key)
    {
        for (int j = 0; j < index; j++)
        {
            if (string.Equals(tags[j].Key ?? string.Empty, key, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A value's text: written into <paramref name="scratch"/> when it is not already a string.</summary>
    private static ReadOnlySpan<char> Text(object? value, Span<char> scratch)
    {
        switch (value)
        {
            case null:
                return [];
            case string s:
                return s;
            case bool b:
                return b ? "true" : "false";
            case ISpanFormattable formattable when formattable.TryFormat(scratch, out int written, default, CultureInfo.InvariantCulture):
                return scratch[..written];
            case IFormattable formattable:
                return formattable.ToString(null, CultureInfo.InvariantCulture);
            default:
                return Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
        }
    }
}
