using System.Globalization;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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

    // The int values of the first measurement, by stored position (null where the value was not an int), so the hot path
    // compares a status code as a number instead of formatting it; null when the set has no int value.
    private readonly int?[]? _integers;

    private TagSet(string[] keys, string[] values, int hash, int?[]? integers = null)
    {
        _integers = integers;
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

    /// <summary>
    /// A hash of the set: equal for equal sets whatever the order, repeated keys counted once. Allocates nothing for
    /// common value types.
    /// </summary>
    public static int HashOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        Span<char> scratch = stackalloc char[ScratchLength];
        int hash = 0;
        for (int i = 0; i < tags.Length; i++)
        {
            string key = tags[i].Key ?? string.Empty;
            if (!IsRepeated(tags, i, key))
            {
                hash += TagHash(key, TextHash(Text(tags[i].Value, scratch)));
            }
        }

        return hash;
    }

    /// <summary>
    /// <see cref="HashOf"/> for a span the caller promises has no repeated key: the hot path's hash, which skips the
    /// search for repeats. When the span does repeat a key it gives another hash, and <see cref="MatchesExactly"/> fails,
    /// so the caller falls back to <see cref="HashOf"/> and <see cref="Matches"/>. <paramref name="hints"/> lends the
    /// hashes of instances seen before, which changes the speed, never the result.
    /// </summary>
    public static int HashOfDistinct(ReadOnlySpan<KeyValuePair<string, object?>> tags, TagHints? hints = null)
    {
        int hash = 0;
        for (int i = 0; i < tags.Length; i++)
        {
            string key = tags[i].Key ?? string.Empty;
            object? value = tags[i].Value;
            if (hints is null || !hints.TryTagHash(i, key, value, out int tagHash))
            {
                tagHash = CombineTagHash(TextHash(key), ValueHash(value));
            }

            hash += tagHash;
        }

        return hash;
    }

    /// <summary>The hash of a value's text (see <see cref="TagHash"/>), without allocating for common value types.</summary>
    internal static int ValueHash(object? value) =>
        value is string text ? TextHash(text) : value is int number ? IntegerHash(number) : FormattedHash(value);

    /// <summary>
    /// True when <paramref name="tags"/>, with no key repeated, is this set: each tag matches a distinct stored one. The
    /// hot path's comparison; false (never a wrong true) for a span that repeats a key.
    /// </summary>
    public bool MatchesExactly(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string[] keys = Keys;
        if (tags.Length != keys.Length || keys.Length > 64)
        {
            return false;
        }

        ulong seen = 0;
        for (int i = 0; i < tags.Length; i++)
        {
            string key = tags[i].Key ?? string.Empty;

            // Apps pass their tags in one order, usually sorted or always the same: try the same place first.
            int at = string.Equals(keys[i], key, StringComparison.Ordinal) ? i : IndexOf(key);
            ulong bit = 1UL << at;
            object? value = tags[i].Value;
            if (at < 0 || (seen & bit) != 0 || !ValueEquals(value, at))
            {
                return false;
            }

            seen |= bit;
        }

        return true;
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
            if (at < 0 || !ValueEquals(tags[i].Value, Values[at], scratch))
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
        var integers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tags.Length; i++)
        {
            string key = tags[i].Key ?? string.Empty;
            if (!IsRepeated(tags, i, key))
            {
                if (tags[i].Value is int number)
                {
                    integers[key] = number;
                }

                // A string value is kept as is: the app passes the same instance again, and equal references compare at once.
                pairs.Add(new(key, tags[i].Value as string ?? Text(tags[i].Value, scratch).ToString()));
            }
        }

        pairs.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        string[] keys = pairs.ConvertAll(p => p.Key).ToArray();
        int?[]? byPosition = integers.Count == 0 ? null : Array.ConvertAll(keys, k => integers.TryGetValue(k, out int n) ? n : (int?)null);
        return new TagSet(keys, pairs.ConvertAll(p => p.Value).ToArray(), hash, byPosition);
    }

    /// <summary>
    /// True when <paramref name="value"/> has the text of the value stored at <paramref name="at"/>: a string compared as
    /// is, an integer by number when the stored one was an integer too (a status code), anything else by its text.
    /// </summary>
    private bool ValueEquals(object? value, int at) => value switch
    {
        string text => string.Equals(text, Values[at], StringComparison.Ordinal),
        int number when _integers is { } integers && integers[at] is { } stored => number == stored,
        _ => FormattedEquals(value, Values[at]),
    };

    /// <summary>The hash of an integer's invariant text, formatted in a small inline buffer rather than on a stackalloc.</summary>
    internal static int IntegerHash(int value)
    {
        IntegerText text = default;
        Span<char> chars = text;
        value.TryFormat(chars, out int written, default, CultureInfo.InvariantCulture);
        return TextHash(chars[..written]);
    }

    /// <summary>The hash of a value that is not a string, formatted on the stack (kept out of the string path).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int FormattedHash(object? value)
    {
        Span<char> scratch = stackalloc char[ScratchLength];
        return TextHash(Text(value, scratch));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool FormattedEquals(object? value, string stored)
    {
        Span<char> scratch = stackalloc char[ScratchLength];
        return Text(value, scratch).SequenceEqual(stored);
    }

    private static bool ValueEquals(object? value, string stored, Span<char> scratch) =>
        value is string s ? string.Equals(s, stored, StringComparison.Ordinal) : Text(value, scratch).SequenceEqual(stored);

    /// <summary>
    /// One tag's share of the hash, in constant time: the key's and the value's length and first and last eight
    /// characters (all of them up to sixteen). Values that differ only in the middle of a long text share a hash and
    /// are told apart by comparison; the series cap bounds how many can.
    /// </summary>
    private static int TagHash(string key, int valueHash) => CombineTagHash(TextHash(key), valueHash);

    /// <summary>One tag's share of the hash from its key's and its value's text hashes.</summary>
    internal static int CombineTagHash(int keyHash, int valueHash)
    {
        uint h = (uint)keyHash * 0x9E3779B1u;
        h ^= (uint)valueHash;
        h *= 0x85EBCA6Bu;
        return (int)(h ^ (h >> 15));
    }

    /// <summary>A text's hash in constant time (see <see cref="TagHash"/>).</summary>
    internal static int TextHash(ReadOnlySpan<char> text)
    {
        // Whole words read at both ends, overlapping when the text is short: a fixed handful of multiplications.
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(text);
        ulong h = (ulong)text.Length * 0x9E3779B97F4A7C15UL;
        if (bytes.Length >= 16)
        {
            h = Mix(h, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
            h = Mix(h, BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]));
            h = Mix(h, BinaryPrimitives.ReadUInt64LittleEndian(bytes[^16..]));
            h = Mix(h, BinaryPrimitives.ReadUInt64LittleEndian(bytes[^8..]));
        }
        else if (bytes.Length >= 8)
        {
            h = Mix(h, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
            h = Mix(h, BinaryPrimitives.ReadUInt64LittleEndian(bytes[^8..]));
        }
        else if (bytes.Length >= 4)
        {
            h = Mix(h, BinaryPrimitives.ReadUInt32LittleEndian(bytes) | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(bytes[^4..]) << 32));
        }
        else if (bytes.Length >= 2)
        {
            h = Mix(h, text[0]);
        }

        h = (h ^ (h >> 31)) * 0x94D049BB133111EBUL;
        return (int)(h ^ (h >> 32));
    }

    private static ulong Mix(ulong h, ulong word) => BitOperations.RotateLeft(h ^ word, 29) * 0xBF58476D1CE4E5B9UL;

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
            case int n when n.TryFormat(scratch, out int written, default, CultureInfo.InvariantCulture):
                // The usual numeric tag (a status code) without the interface call.
                return scratch[..written];
            case ISpanFormattable formattable when formattable.TryFormat(scratch, out int written, default, CultureInfo.InvariantCulture):
                return scratch[..written];
            case IFormattable formattable:
                return formattable.ToString(null, CultureInfo.InvariantCulture);
            default:
                return Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
        }
    }
}

/// <summary>Room for any <see cref="int"/> in invariant text (eleven characters), on the stack without a stackalloc.</summary>
[InlineArray(12)]
internal struct IntegerText
{
    private char _first;
}
