using System.Text;

namespace StatsHandler;

/// <summary>
/// Turns OpenTelemetry-style instrument names, units and tag keys into Prometheus names:
/// <c>MyApp.Requests-Served</c> with unit <c>s</c> becomes <c>MyApp_Requests_Served_seconds</c>.
/// </summary>
internal static class PrometheusNames
{
    /// <summary>True when <paramref name="name"/> matches <c>[a-zA-Z_][a-zA-Z0-9_]*</c>.</summary>
    public static bool IsValidName(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Replaces every character outside <c>[a-zA-Z0-9_]</c> with <c>_</c>, collapses runs of <c>_</c>, trims them at
    /// the ends and puts <c>_</c> before a leading digit; an empty result becomes <paramref name="fallback"/>.
    /// </summary>
    public static string Sanitize(string name, string fallback)
    {
        var builder = new StringBuilder(name.Length + 1);
        foreach (char c in name)
        {
            bool ok = char.IsAsciiLetterOrDigit(c);
            if (ok)
            {
                builder.Append(c);
            }
            else if (builder.Length > 0 && builder[^1] != '_')
            {
                builder.Append('_');
            }
        }

        while (builder.Length > 0 && builder[^1] == '_')
        {
            builder.Length--;
        }

        if (builder.Length == 0)
        {
            return fallback;
        }

        if (char.IsAsciiDigit(builder[0]))
        {
            builder.Insert(0, '_');
        }

        return builder.ToString();
    }

    /// <summary>
    /// The Prometheus metric name of an instrument: sanitised name, then the unit's suffix unless the name already ends
    /// with it. Counters get no <c>_total</c> here; the writers add it.
    /// </summary>
    public static string MetricName(string instrumentName, string? unit, bool isGauge)
    {
        string name = Sanitize(instrumentName, "instrument");
        if (name.EndsWith("_total", StringComparison.Ordinal) && name.Length > "_total".Length)
        {
            name = name[..^"_total".Length];
        }

        string suffix = UnitSuffix(unit, isGauge);
        if (suffix.Length > 0 && !name.EndsWith("_" + suffix, StringComparison.Ordinal) && name != suffix)
        {
            name = name + "_" + suffix;
        }

        return name;
    }

    /// <summary>A label name from a tag key: sanitised, and never starting with <c>__</c> (reserved by Prometheus).</summary>
    public static string LabelName(string key)
    {
        var builder = new StringBuilder(key.Length + 1);
        foreach (char c in key)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        }

        if (builder.Length == 0 || char.IsAsciiDigit(builder[0]))
        {
            builder.Insert(0, '_');
        }

        while (builder.Length > 1 && builder[0] == '_' && builder[1] == '_')
        {
            builder.Remove(0, 1);
        }

        return builder.ToString();
    }

    /// <summary>
    /// The Prometheus suffix for a UCUM unit as .NET instruments use them (<c>s</c>, <c>ms</c>, <c>By</c>...): empty for
    /// annotations such as <c>{request}</c>, <c>ratio</c> for a gauge of <c>1</c>, <c>x_per_y</c> for <c>x/y</c>.
    /// </summary>
    public static string UnitSuffix(string? unit, bool isGauge)
    {
        if (string.IsNullOrWhiteSpace(unit))
        {
            return string.Empty;
        }

        unit = unit.Trim();
        if (unit == "1")
        {
            return isGauge ? "ratio" : string.Empty;
        }

        int slash = unit.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0 && slash < unit.Length - 1)
        {
            string numerator = UnitWord(unit[..slash]);
            string denominator = PerWord(unit[(slash + 1)..]);
            return numerator.Length == 0 ? (denominator.Length == 0 ? string.Empty : "per_" + denominator)
                : denominator.Length == 0 ? numerator : numerator + "_per_" + denominator;
        }

        return UnitWord(unit);
    }

    /// <summary>
    /// The factor that turns a value in <paramref name="unit"/> into the base unit its suffix names: Prometheus wants
    /// seconds and bytes, so <c>ms</c> gives 0.001 and <c>KiBy</c> 1024. For <c>x/y</c> only <c>x</c> is scaled.
    /// </summary>
    public static double UnitScale(string? unit)
    {
        if (string.IsNullOrWhiteSpace(unit))
        {
            return 1;
        }

        unit = unit.Trim();
        int slash = unit.IndexOf('/', StringComparison.Ordinal);
        return BaseUnit(slash > 0 ? unit[..slash] : unit).Scale;
    }

    /// <summary>Time and data units in their base unit (seconds, bytes) and the factor to get there.</summary>
    private static (string Word, double Scale) BaseUnit(string unit) => unit switch
    {
        "d" => ("seconds", 86_400),
        "h" => ("seconds", 3_600),
        "min" => ("seconds", 60),
        "s" => ("seconds", 1),
        "ms" => ("seconds", 1e-3),
        "us" or "μs" or "µs" => ("seconds", 1e-6),
        "ns" => ("seconds", 1e-9),
        "By" => ("bytes", 1),
        "KiBy" => ("bytes", 1024),
        "MiBy" => ("bytes", 1024 * 1024),
        "GiBy" => ("bytes", 1024 * 1024 * 1024),
        "KBy" or "kBy" => ("bytes", 1e3),
        "MBy" => ("bytes", 1e6),
        "GBy" => ("bytes", 1e9),
        "bit" => ("bytes", 0.125),
        _ => (string.Empty, 1),
    };

    private static string UnitWord(string unit) => BaseUnit(unit) is { Word.Length: > 0 } known ? known.Word : unit switch
    {
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "%" => "percent",
        _ when unit.StartsWith('{') => string.Empty,
        _ => Sanitize(unit, string.Empty),
    };

    private static string PerWord(string unit) => unit switch
    {
        "s" => "second",
        "m" => "meter",
        "By" => "byte",
        "min" => "minute",
        "h" => "hour",
        "d" => "day",
        _ => UnitWord(unit),
    };
}
