namespace StatsHandler;

/// <summary>The kinds of <c>System.Diagnostics.Metrics</c> instrument the meter bridge exports.</summary>
internal enum MeterInstrumentKind
{
    Counter,
    UpDownCounter,
    Gauge,
    ObservableCounter,
    ObservableUpDownCounter,
    ObservableGauge,
    Histogram,
}

/// <summary>Names of <see cref="MeterInstrumentKind"/>s as the outputs spell them.</summary>
internal static class MeterInstrumentKinds
{
    /// <summary>The kind in snake case, e.g. <c>observable_gauge</c>: the JSON document's <c>kind</c>, and Prometheus's default help.</summary>
    public static string Name(MeterInstrumentKind kind) => kind switch
    {
        MeterInstrumentKind.Counter => "counter",
        MeterInstrumentKind.UpDownCounter => "up_down_counter",
        MeterInstrumentKind.Gauge => "gauge",
        MeterInstrumentKind.ObservableCounter => "observable_counter",
        MeterInstrumentKind.ObservableUpDownCounter => "observable_up_down_counter",
        MeterInstrumentKind.ObservableGauge => "observable_gauge",
        _ => "histogram",
    };
}
