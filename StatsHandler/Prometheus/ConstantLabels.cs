namespace StatsHandler;

/// <summary>
/// Labels set once (<c>service</c>, <c>version</c>, <c>region</c>) and added to every sample a scrape writes, built-in
/// families and the app's alike, encoded once by the Prometheus writer from the snapshot's labels. Immutable.
/// </summary>
/// <remarks>
/// Applied to the finished exposition in one pass, so no writer needs to know of them. A sample that already carries a
/// label of the same name (the runtime's <c>dotnet_runtime_info{version=...}</c>, say) keeps its own value: a label may
/// appear only once per sample.
/// </remarks>
internal sealed class ConstantLabels
{
    private readonly (string Name, byte[] NameBytes, byte[] Pair)[] _labels;

    private ConstantLabels((string Name, byte[] NameBytes, byte[] Pair)[] labels) => _labels = labels;

    public bool IsEmpty => _labels.Length == 0;

    /// <summary>Encodes <paramref name="labels"/>, names the source has validated (<see cref="PrometheusNames.ValidateConstantLabelName"/>).</summary>
    public static ConstantLabels Of(KeyValuePair<string, string>[] labels) => new(Array.ConvertAll(labels, static label =>
    {
        using var buffer = new PrometheusBuffer(64);
        buffer.WriteText(label.Key);
        buffer.Write("=\""u8);
        buffer.WriteLabelValue(label.Value);
        buffer.Write((byte)'"');
        return (label.Key, System.Text.Encoding.UTF8.GetBytes(label.Key), buffer.WrittenSpan.ToArray());
    }));

    /// <summary>The label names, for descriptions (never the values, which may say more than a log should).</summary>
    public IEnumerable<string> Names => _labels.Select(l => l.Name);

    /// <summary>Copies <paramref name="exposition"/> to <paramref name="output"/> with the labels added to every sample line.</summary>
    public void Apply(ReadOnlySpan<byte> exposition, PrometheusBuffer output)
    {
        while (!exposition.IsEmpty)
        {
            int end = exposition.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = end < 0 ? exposition : exposition[..(end + 1)];
            exposition = exposition[line.Length..];
            if (line.IsEmpty || line[0] == (byte)'#' || line[0] == (byte)'\n')
            {
                output.Write(line);
                continue;
            }

            int nameEnd = line.IndexOfAny((byte)'{', (byte)' ');
            if (nameEnd < 0)
            {
                output.Write(line);
                continue;
            }

            output.Write(line[..nameEnd]);
            output.Write((byte)'{');
            if (line[nameEnd] == (byte)' ')
            {
                WritePairs(output, ReadOnlySpan<byte>.Empty);
                output.Write((byte)'}');
                output.Write(line[nameEnd..]);
                continue;
            }

            int close = LabelSetEnd(line, nameEnd);
            ReadOnlySpan<byte> own = line[(nameEnd + 1)..close];
            bool wrote = WritePairs(output, own);
            if (wrote && !own.IsEmpty)
            {
                output.Write((byte)',');
            }

            output.Write(line[(nameEnd + 1)..]);
        }
    }

    private bool WritePairs(PrometheusBuffer output, ReadOnlySpan<byte> own)
    {
        bool wrote = false;
        foreach ((_, byte[] nameBytes, byte[] pair) in _labels)
        {
            if (HasLabel(own, nameBytes))
            {
                continue;
            }

            if (wrote)
            {
                output.Write((byte)',');
            }

            output.Write(pair);
            wrote = true;
        }

        return wrote;
    }

    /// <summary>The index of the <c>}</c> closing the label set that opens at <paramref name="open"/>.</summary>
    private static int LabelSetEnd(ReadOnlySpan<byte> line, int open)
    {
        int at = open + 1;
        while ((at = NextDelimiter(line, at)) >= 0 && line[at] != (byte)'}')
        {
            at++;
        }

        return at < 0 ? line.Length - 1 : at;
    }

    /// <summary>True when the label set <paramref name="own"/> (without braces) has a label named <paramref name="name"/>.</summary>
    private static bool HasLabel(ReadOnlySpan<byte> own, ReadOnlySpan<byte> name)
    {
        int start = 0;
        for (int at = NextDelimiter(own, 0); at >= 0; at = NextDelimiter(own, at + 1))
        {
            if (own[at] == (byte)'=' && own[start..at].Trim((byte)' ').SequenceEqual(name))
            {
                return true;
            }

            if (own[at] == (byte)',')
            {
                start = at + 1;
            }
        }

        return false;
    }

    /// <summary>The index of the next <c>=</c>, <c>,</c> or <c>}</c> at or after <paramref name="start"/> outside a quoted value, or -1.</summary>
    private static int NextDelimiter(ReadOnlySpan<byte> text, int start)
    {
        bool quoted = false;
        for (int i = start; i < text.Length; i++)
        {
            byte c = text[i];
            if (quoted)
            {
                if (c == (byte)'\\')
                {
                    i++;
                }
                else if (c == (byte)'"')
                {
                    quoted = false;
                }
            }
            else if (c == (byte)'"')
            {
                quoted = true;
            }
            else if (c is (byte)'=' or (byte)',' or (byte)'}')
            {
                return i;
            }
        }

        return -1;
    }
}
