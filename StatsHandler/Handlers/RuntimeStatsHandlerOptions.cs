namespace StatsHandler;

/// <summary>Options for a <see cref="RuntimeStatsHandler"/>; each handler has its own.</summary>
public sealed class RuntimeStatsHandlerOptions
{
    /// <summary>
    /// Ends every body with a newline, for tools that read line by line (the Go original's <c>NewLineTermEnabled</c>).
    /// Off by default.
    /// </summary>
    public bool NewLineTerminated { get; init; }

    /// <summary>
    /// Indents every response (the Go original's <c>PrettyPrintEnabled</c>). Off by default; <c>?pp=1</c> indents a
    /// single response either way.
    /// </summary>
    public bool Indented { get; init; }

    /// <summary>The clock for timestamps and rates; <see cref="TimeProvider.System"/> when null. Tests pass a fake one.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>The interval the rates cover; <see cref="RuntimeStatsCollector.DefaultRateInterval"/> (one second) when null.</summary>
    public TimeSpan? RateInterval { get; init; }
}
