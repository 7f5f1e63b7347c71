namespace StatsHandler;

/// <summary>What a <see cref="PrometheusHandler"/> writes beside the registry's own exports.</summary>
public sealed class PrometheusHandlerOptions
{
    /// <summary>
    /// True (the default) to write the built-in runtime families (<c>process_*</c>, <c>dotnet_*</c>, and the GC pause
    /// histogram when GC events are on). False for an app that already gets them elsewhere, for example from the
    /// OpenTelemetry runtime instrumentation: then only the published values and exported meters are written.
    /// </summary>
    public bool IncludeRuntimeMetrics { get; init; } = true;
}
