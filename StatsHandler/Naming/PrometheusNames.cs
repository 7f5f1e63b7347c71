using System.Collections.Frozen;
using System.Text;

namespace StatsHandler;

/// <summary>
/// The one Prometheus naming policy: which names are valid, how instrument names, units and tag keys become
/// Prometheus names (<c>MyApp.Requests-Served</c> with unit <c>s</c> becomes <c>MyApp_Requests_Served_seconds</c>),
/// the samples a family of each type writes (<c>_total</c>, <c>_info</c>, <c>_bucket</c>...), the prefixes reserved for
/// the built-in families and the built-in families' names. Everyone who needs a Prometheus name asks here.
/// </summary>
internal static class PrometheusNames
{
    /// <summary>The <c>counter</c> family type: its samples end in <c>_total</c>.</summary>
    public const string Counter = "counter";

    /// <summary>The <c>gauge</c> family type.</summary>
    public const string Gauge = "gauge";

    /// <summary>The <c>histogram</c> family type: <c>_bucket</c>, <c>_sum</c> and <c>_count</c> samples.</summary>
    public const string Histogram = "histogram";

    /// <summary>The <c>info</c> family type (OpenMetrics): one sample, <c>name_info</c>, of value 1.</summary>
    public const string Info = "info";

    /// <summary>Prefixes of the built-in families; published values may not start with them.</summary>
    public static readonly string[] ReservedPrefixes = ["process_", "dotnet_", "statshandler_"];

    /// <summary>The family of series an instrument could not create because it reached its cap.</summary>
    public const string DroppedSeries = "statshandler_dropped_series";

    /// <summary>The GC events' pause histogram.</summary>
    public const string GcPauseSeconds = "dotnet_gc_pause_seconds";

    /// <summary>The GC events' collections by reason.</summary>
    public const string GcCollectionsByReason = "dotnet_gc_collections_by_reason";

    /// <summary>
    /// Every built-in family, name and type: the runtime families, the GC event families and the dropped-series counter.
    /// The Prometheus writers write no other family of their own (a test holds them to it); instruments and published
    /// values keep off these names.
    /// </summary>
    public static readonly (string Name, string Type)[] BuiltInFamilies =
    [
        ("process_cpu_seconds", Counter), ("process_resident_memory_bytes", Gauge), ("process_start_time_seconds", Gauge),
        ("process_open_fds", Gauge), ("process_max_fds", Gauge), ("process_num_threads", Gauge),
        ("dotnet_runtime_info", Gauge), ("dotnet_process_cpus", Gauge), ("dotnet_process_cpu_time_seconds", Counter),
        ("dotnet_thread_pool_threads", Gauge), ("dotnet_thread_pool_queue_length", Gauge),
        ("dotnet_thread_pool_work_item_count", Counter), ("dotnet_monitor_lock_contentions", Counter),
        ("dotnet_timers_active", Gauge), ("dotnet_total_memory_bytes", Gauge), ("dotnet_gc_heap_total_allocated_bytes", Counter),
        ("dotnet_gc_last_collection_memory_committed_size_bytes", Gauge), ("dotnet_gc_memory_total_available_bytes", Gauge),
        ("dotnet_gc_last_collection_memory_load_bytes", Gauge), ("dotnet_gc_heap_size_bytes", Gauge),
        ("dotnet_gc_last_collection_heap_fragmentation_size_bytes", Gauge), ("dotnet_gc_last_collection_heap_size_bytes", Gauge),
        ("dotnet_gc_last_collection_promoted_bytes", Gauge), ("dotnet_gc_last_collection_pinned_objects", Gauge),
        ("dotnet_gc_finalization_pending_objects", Gauge), ("dotnet_gc_collections", Counter), ("dotnet_gc_pause_time_seconds", Counter),
        ("dotnet_jit_compiled_methods", Counter), ("dotnet_jit_compiled_il_size_bytes", Counter),
        ("dotnet_jit_compilation_time_seconds", Counter), ("dotnet_assemblies_loaded", Gauge), ("dotnet_exceptions", Counter),
        (GcPauseSeconds, Histogram), (GcCollectionsByReason, Counter), (DroppedSeries, Counter),
    ];

    private static readonly FrozenSet<string> BuiltInSampleNames = FrozenSet.ToFrozenSet(
        BuiltInFamilies.SelectMany(f => SampleNames(f.Name, f.Type)), StringComparer.Ordinal);

    /// <summary>True when <paramref name="name"/> is a built-in family's name or one of its sample names.</summary>
    public static bool IsBuiltIn(string name) => BuiltInSampleNames.Contains(name);

    /// <summary>Throws unless <paramref name="name"/> may name a constant label: valid, and not one Prometheus or a histogram reserves.</summary>
    /// <exception cref="ArgumentException">The name is not a valid label name, or is reserved.</exception>
    public static void ValidateConstantLabelName(string name, string paramName)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException(
                $"Invalid constant label name '{name}': use letters, digits and underscores, not starting with a digit ([a-zA-Z_][a-zA-Z0-9_]*), for example 'service'.",
                paramName);
        }

        if (name.StartsWith("__", StringComparison.Ordinal) || name is "le" or "quantile")
        {
            throw new ArgumentException(
                $"Invalid constant label name '{name}': names starting with '__' are Prometheus's own, and 'le' and 'quantile' belong to histogram and summary samples. Choose another, for example 'service'.",
                paramName);
        }
    }

    /// <summary>The reserved prefix <paramref name="name"/> starts with, or null.</summary>
    public static string? ReservedPrefixOf(string name) =>
        Array.Find(ReservedPrefixes, prefix => name.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>
    /// The name a family's plain samples carry: <c>name_total</c> for a counter, <c>name_info</c> for an info family,
    /// the family's name otherwise (a histogram's samples add <c>_bucket</c>, <c>_sum</c>, <c>_count</c> to it).
    /// </summary>
    public static string SampleName(string family, string type) => type switch
    {
        Counter => family + "_total",
        Info => family + "_info",
        _ => family,
    };

    /// <summary>The name of a histogram's bucket samples, <c>family_bucket</c>.</summary>
    public static string BucketSample(string family) => family + "_bucket";

    /// <summary>The name of a histogram's sum sample, <c>family_sum</c>.</summary>
    public static string SumSample(string family) => family + "_sum";

    /// <summary>The name of a histogram's count sample, <c>family_count</c>.</summary>
    public static string CountSample(string family) => family + "_count";

    /// <summary>
    /// Every name a family of <paramref name="type"/> writes in either format: the family's own name (OpenMetrics
    /// names counter and info families without their suffix) and its samples'.
    /// </summary>
    public static string[] SampleNames(string family, string type) => type switch
    {
        Counter => [family, family + "_total"],
        Info => [family, family + "_info"],
        Histogram => [family, BucketSample(family), SumSample(family), CountSample(family)],
        _ => [family],
    };

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
            // The writers add _total to a counter's samples (SampleName): a name that has it already would get it twice.
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
