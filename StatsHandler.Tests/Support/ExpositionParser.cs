using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace StatsHandler.Tests.Support;

/// <summary>One sample line: its name, labels (unescaped) and value.</summary>
internal sealed record ExpositionSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    /// <summary>The labels other than <c>le</c>, sorted, as one string: identifies a histogram's series.</summary>
    public string SeriesKey => string.Join(",", Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));

    /// <summary>Name and every label, sorted: identifies the sample.</summary>
    public string Identity => Name + "{" + string.Join(",", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")) + "}";
}

/// <summary>A metric family: its declared name, type, help text and samples in order.</summary>
internal sealed class ExpositionFamily(string name)
{
    public string Name { get; } = name;

    public string? Type { get; set; }

    public string? Help { get; set; }

    public List<ExpositionSample> Samples { get; } = [];

    /// <summary>True once another family has started: this one may not continue.</summary>
    public bool Closed { get; set; }
}

/// <summary>
/// A strict parser for the Prometheus text format 0.0.4 and OpenMetrics 1.0 as StatsHandler writes them. It throws a
/// <see cref="FormatException"/> naming the line for anything a real parser would reject, and for things the formats
/// allow but that StatsHandler must not do: a family without HELP or TYPE, a family split in two, a sample before its
/// family's header, a duplicate series, a timestamp, a trailing comma in labels, an unknown comment.
/// </summary>
internal static partial class ExpositionParser
{
    private static readonly Regex MetricName = MetricNameRegex();
    private static readonly Regex LabelName = LabelNameRegex();
    private static readonly Regex Number = NumberRegex();

    public static Dictionary<string, ExpositionFamily> Parse(string text, bool openMetrics)
    {
        if (text.Contains('\r', StringComparison.Ordinal))
        {
            throw new FormatException("the exposition contains a carriage return; lines end with \\n only");
        }

        if (!text.EndsWith('\n'))
        {
            throw new FormatException("the exposition does not end with a line feed");
        }

        string[] lines = text[..^1].Split('\n');
        var families = new Dictionary<string, ExpositionFamily>(StringComparer.Ordinal);
        var identities = new HashSet<string>(StringComparer.Ordinal);
        ExpositionFamily? current = null;
        bool sawEof = false;
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n];
            string where = $"line {n + 1} '{line}'";
            if (sawEof)
            {
                throw new FormatException($"{where}: nothing may follow '# EOF'");
            }

            if (line.Length == 0)
            {
                throw new FormatException($"{where}: empty line");
            }

            if (line == "# EOF")
            {
                if (!openMetrics)
                {
                    throw new FormatException($"{where}: '# EOF' belongs to OpenMetrics, not the text format");
                }

                sawEof = true;
                continue;
            }

            if (line[0] == '#')
            {
                string[] parts = line.Split(' ', 4);
                if (parts.Length < 3 || parts[0] != "#" || parts[1] is not ("HELP" or "TYPE"))
                {
                    throw new FormatException($"{where}: only '# HELP name text' and '# TYPE name type' comments are expected");
                }

                string name = parts[2];
                if (!MetricName.IsMatch(name))
                {
                    throw new FormatException($"{where}: invalid metric name '{name}'");
                }

                if (current is null || current.Name != name)
                {
                    if (families.ContainsKey(name))
                    {
                        throw new FormatException($"{where}: family '{name}' is declared twice or split");
                    }

                    if (current is not null)
                    {
                        current.Closed = true;
                    }

                    current = new ExpositionFamily(name);
                    families.Add(name, current);
                }

                if (current.Samples.Count > 0)
                {
                    throw new FormatException($"{where}: HELP and TYPE must come before the family's samples");
                }

                if (parts[1] == "HELP")
                {
                    if (current.Help is not null)
                    {
                        throw new FormatException($"{where}: second HELP for '{name}'");
                    }

                    current.Help = parts.Length == 4 ? UnescapeHelp(parts[3], openMetrics, where) : string.Empty;
                }
                else
                {
                    if (current.Type is not null)
                    {
                        throw new FormatException($"{where}: second TYPE for '{name}'");
                    }

                    if (parts.Length != 4 || parts[3] is not ("counter" or "gauge" or "histogram" or "info") || (parts[3] == "info" && !openMetrics))
                    {
                        throw new FormatException($"{where}: TYPE must be counter, gauge or histogram (or info in OpenMetrics)");
                    }

                    current.Type = parts[3];
                    if (openMetrics && current.Type == "counter" && name.EndsWith("_total", StringComparison.Ordinal))
                    {
                        throw new FormatException($"{where}: an OpenMetrics counter family is named without '_total'");
                    }

                    if (!openMetrics && current.Type == "counter" && !name.EndsWith("_total", StringComparison.Ordinal))
                    {
                        throw new FormatException($"{where}: counters are named with '_total'");
                    }
                }

                continue;
            }

            ExpositionSample sample = ParseSample(line, where);
            if (current is null || current.Type is null || current.Help is null)
            {
                throw new FormatException($"{where}: sample before its family's HELP and TYPE");
            }

            if (!BelongsTo(sample.Name, current, openMetrics))
            {
                throw new FormatException($"{where}: sample '{sample.Name}' does not belong to the current family '{current.Name}' ({current.Type})");
            }

            if (sample.Name.EndsWith("_bucket", StringComparison.Ordinal) != sample.Labels.ContainsKey("le") && current.Type == "histogram")
            {
                throw new FormatException($"{where}: 'le' is on buckets and only on buckets");
            }

            if (!identities.Add(sample.Identity))
            {
                throw new FormatException($"{where}: duplicate series {sample.Identity}");
            }

            current.Samples.Add(sample);
        }

        if (openMetrics && !sawEof)
        {
            throw new FormatException("OpenMetrics output must end with '# EOF'");
        }

        foreach (ExpositionFamily family in families.Values)
        {
            if (family.Help is null || family.Type is null)
            {
                throw new FormatException($"family '{family.Name}' lacks HELP or TYPE");
            }

            if (family.Type == "histogram")
            {
                CheckHistogram(family, openMetrics);
            }
        }

        return families;
    }

    /// <summary>The samples of every family, keyed by <see cref="ExpositionSample.Identity"/>.</summary>
    public static Dictionary<string, ExpositionSample> Samples(Dictionary<string, ExpositionFamily> families) =>
        families.Values.SelectMany(f => f.Samples).ToDictionary(s => s.Identity, StringComparer.Ordinal);

    private static bool BelongsTo(string sample, ExpositionFamily family, bool openMetrics) => family.Type switch
    {
        "counter" => sample == (openMetrics ? family.Name + "_total" : family.Name),
        "histogram" => sample == family.Name + "_bucket" || sample == family.Name + "_sum" || sample == family.Name + "_count",
        "info" => sample == family.Name + "_info",
        _ => sample == family.Name,
    };

    private static void CheckHistogram(ExpositionFamily family, bool openMetrics)
    {
        foreach (IGrouping<string, ExpositionSample> series in family.Samples.GroupBy(s => s.SeriesKey))
        {
            List<ExpositionSample> buckets = series.Where(s => s.Name.EndsWith("_bucket", StringComparison.Ordinal)).ToList();
            if (buckets.Count == 0)
            {
                throw new FormatException($"histogram '{family.Name}' {{{series.Key}}} has no buckets");
            }

            double previousBound = double.NegativeInfinity;
            double previousCount = 0;
            foreach (ExpositionSample bucket in buckets)
            {
                double bound = ParseValue(bucket.Labels["le"], $"le of {bucket.Identity}");
                if (!(bound > previousBound))
                {
                    throw new FormatException($"histogram '{family.Name}': le {bucket.Labels["le"]} does not increase");
                }

                if (bucket.Value < previousCount)
                {
                    throw new FormatException($"histogram '{family.Name}': bucket le={bucket.Labels["le"]} counts fewer than the one before");
                }

                previousBound = bound;
                previousCount = bucket.Value;
            }

            if (buckets[^1].Labels["le"] != "+Inf")
            {
                throw new FormatException($"histogram '{family.Name}' {{{series.Key}}}: the last bucket must be le=\"+Inf\"");
            }

            ExpositionSample? sum = series.SingleOrDefault(s => s.Name == family.Name + "_sum");
            ExpositionSample? count = series.SingleOrDefault(s => s.Name == family.Name + "_count");
            if (openMetrics && (sum is null) != (count is null))
            {
                throw new FormatException($"OpenMetrics histogram '{family.Name}' {{{series.Key}}}: _count appears if and only if _sum does");
            }

            if (openMetrics && sum is not null && !(sum.Value >= 0))
            {
                throw new FormatException($"OpenMetrics histogram '{family.Name}' {{{series.Key}}}: _sum {sum.Value} must not be NaN or negative");
            }

            if (count is null)
            {
                if (!openMetrics)
                {
                    throw new FormatException($"histogram '{family.Name}' {{{series.Key}}} has no _count");
                }

                continue;
            }

            if (count.Value != buckets[^1].Value)
            {
                throw new FormatException($"histogram '{family.Name}' {{{series.Key}}}: +Inf bucket {buckets[^1].Value} != _count {count.Value}");
            }
        }
    }

    private static ExpositionSample ParseSample(string line, string where)
    {
        int i = 0;
        while (i < line.Length && line[i] is not ('{' or ' '))
        {
            i++;
        }

        string name = line[..i];
        if (!MetricName.IsMatch(name))
        {
            throw new FormatException($"{where}: invalid metric name '{name}'");
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                if (i >= line.Length)
                {
                    throw new FormatException($"{where}: unterminated labels");
                }

                if (line[i] == '}')
                {
                    if (labels.Count > 0)
                    {
                        throw new FormatException($"{where}: trailing comma in labels");
                    }

                    i++;
                    break;
                }

                int equals = line.IndexOf('=', i);
                if (equals < 0)
                {
                    throw new FormatException($"{where}: label without '='");
                }

                string labelName = line[i..equals];
                if (!LabelName.IsMatch(labelName))
                {
                    throw new FormatException($"{where}: invalid label name '{labelName}'");
                }

                if (equals + 1 >= line.Length || line[equals + 1] != '"')
                {
                    throw new FormatException($"{where}: label value must be quoted");
                }

                i = equals + 2;
                var value = new StringBuilder();
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new FormatException($"{where}: unterminated label value");
                    }

                    char c = line[i++];
                    if (c == '"')
                    {
                        break;
                    }

                    if (c == '\\')
                    {
                        char next = i < line.Length ? line[i++] : '\0';
                        value.Append(next switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            _ => throw new FormatException($"{where}: invalid escape '\\{next}' in label value"),
                        });
                        continue;
                    }

                    value.Append(c);
                }

                if (!labels.TryAdd(labelName, value.ToString()))
                {
                    throw new FormatException($"{where}: duplicate label '{labelName}'");
                }

                if (i < line.Length && line[i] == ',')
                {
                    i++;
                    if (i < line.Length && line[i] == '}')
                    {
                        throw new FormatException($"{where}: trailing comma in labels");
                    }

                    continue;
                }

                if (i < line.Length && line[i] == '}')
                {
                    i++;
                    break;
                }

                throw new FormatException($"{where}: expected ',' or '}}' after a label");
            }
        }

        if (i >= line.Length || line[i] != ' ')
        {
            throw new FormatException($"{where}: expected one space before the value");
        }

        string rest = line[(i + 1)..];
        if (rest.Contains(' ', StringComparison.Ordinal))
        {
            throw new FormatException($"{where}: unexpected timestamp or extra field");
        }

        return new ExpositionSample(name, labels, ParseValue(rest, where));
    }

    private static double ParseValue(string text, string where)
    {
        switch (text)
        {
            case "NaN":
                return double.NaN;
            case "+Inf":
                return double.PositiveInfinity;
            case "-Inf":
                return double.NegativeInfinity;
        }

        if (!Number.IsMatch(text))
        {
            throw new FormatException($"{where}: invalid value '{text}'");
        }

        return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private static string UnescapeHelp(string text, bool openMetrics, string where)
    {
        var result = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '"' && openMetrics)
            {
                throw new FormatException($"{where}: an OpenMetrics HELP escapes '\"'");
            }

            if (c != '\\')
            {
                result.Append(c);
                continue;
            }

            char next = i + 1 < text.Length ? text[++i] : '\0';
            result.Append(next switch
            {
                '\\' => '\\',
                'n' => '\n',
                '"' when openMetrics => '"',
                _ => throw new FormatException($"{where}: invalid escape '\\{next}' in HELP"),
            });
        }

        return result.ToString();
    }

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricNameRegex();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelNameRegex();

    [GeneratedRegex("^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?$")]
    private static partial Regex NumberRegex();
}
