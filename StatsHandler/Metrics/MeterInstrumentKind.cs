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
