namespace StatsHandler;

/// <summary>
/// The tag instances an instrument's measurements pass again and again, with their shares of the tag-set hash: by the
/// position the app passes each key in, the key's string instance, and up to <see cref="MostValues"/> string instances
/// and integers seen as its value. The hot path (<see cref="TagSet.HashOfDistinct"/>) then hashes a tag by reference
/// or by number instead of reading its text, whichever of the instrument's series it belongs to.
/// </summary>
/// <remarks>
/// Immutable: the instrument makes a new one under its lock when it adds a series, and the record path reads the
/// current one without a lock. A tag's share of the hash is a function of its key's and value's text, so a hint can
/// change only the speed of <see cref="TagSet.HashOfDistinct"/>, never its result.
/// </remarks>
internal sealed class TagHints
{
    /// <summary>The most values remembered per key: enough for routes and status codes, few enough to scan.</summary>
    public const int MostValues = 16;

    private readonly Position[] _positions;

    private TagHints(Position[] positions) => _positions = positions;

    /// <summary>No hints yet.</summary>
    public static TagHints Empty { get; } = new([]);

    /// <summary>
    /// The share of the hash of the tag (<paramref name="key"/>, <paramref name="value"/>) passed at
    /// <paramref name="position"/>: known when the key is the instance seen there before (its value is hashed if new);
    /// false for another key.
    /// </summary>
    public bool TryTagHash(int position, string key, object? value, out int tagHash)
    {
        Position[] positions = _positions;
        if ((uint)position >= (uint)positions.Length || !ReferenceEquals(positions[position].Key, key))
        {
            tagHash = 0;
            return false;
        }

        Position known = positions[position];
        if (value is string text)
        {
            string[] strings = known.Strings;
            for (int i = 0; i < strings.Length; i++)
            {
                if (ReferenceEquals(strings[i], text))
                {
                    tagHash = known.StringHashes[i];
                    return true;
                }
            }
        }
        else if (value is int number)
        {
            // A status code boxed anew on every call: compared by number, as the set compares it.
            int[] numbers = known.Numbers;
            for (int i = 0; i < numbers.Length; i++)
            {
                if (numbers[i] == number)
                {
                    tagHash = known.NumberHashes[i];
                    return true;
                }
            }
        }

        tagHash = TagSet.CombineTagHash(known.KeyHash, TagSet.ValueHash(value));
        return true;
    }

    /// <summary>These hints and the instances of <paramref name="tags"/> (a new series' tags, in the app's order).</summary>
    public TagHints With(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var positions = new Position[Math.Max(_positions.Length, tags.Length)];
        _positions.CopyTo(positions, 0);
        for (int i = 0; i < tags.Length; i++)
        {
            string key = tags[i].Key ?? string.Empty;
            Position? known = i < _positions.Length ? _positions[i] : null;
            if (known is null)
            {
                known = new Position(key, TagSet.TextHash(key), [], [], [], []);
            }
            else if (!ReferenceEquals(known.Key, key))
            {
                // Another key instance in this place: the first one seen keeps it.
                continue;
            }

            positions[i] = known.With(tags[i].Value);
        }

        return new TagHints(positions);
    }

    /// <summary>One place in the app's tag order: its key instance and the values seen with it.</summary>
    private sealed record Position(string Key, int KeyHash, string[] Strings, int[] StringHashes, int[] Numbers, int[] NumberHashes)
    {
        public Position With(object? value)
        {
            if (value is string text && Strings.Length < MostValues && !Array.Exists(Strings, s => ReferenceEquals(s, text)))
            {
                return this with { Strings = [.. Strings, text], StringHashes = [.. StringHashes, TagSet.CombineTagHash(KeyHash, TagSet.TextHash(text))] };
            }

            if (value is int number && Numbers.Length < MostValues && Array.IndexOf(Numbers, number) < 0)
            {
                return this with { Numbers = [.. Numbers, number], NumberHashes = [.. NumberHashes, TagSet.CombineTagHash(KeyHash, TagSet.IntegerHash(number))] };
            }

            return this;
        }
    }
}
