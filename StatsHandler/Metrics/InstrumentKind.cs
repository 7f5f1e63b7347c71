namespace StatsHandler;

/// <summary>The kinds of <see cref="System.Diagnostics.Metrics.Instrument"/> an export carries, as a snapshot names them.</summary>
public enum InstrumentKind
{
    /// <summary>A <see cref="System.Diagnostics.Metrics.Counter{T}"/>: a sum that only grows.</summary>
    Counter,

    /// <summary>An <see cref="System.Diagnostics.Metrics.UpDownCounter{T}"/>: a sum that may go down.</summary>
    UpDownCounter,

    /// <summary>A <see cref="System.Diagnostics.Metrics.Gauge{T}"/>: the last value recorded.</summary>
    Gauge,

    /// <summary>An <see cref="System.Diagnostics.Metrics.ObservableCounter{T}"/>: a growing total its callback reports.</summary>
    ObservableCounter,

    /// <summary>An <see cref="System.Diagnostics.Metrics.ObservableUpDownCounter{T}"/>: a total its callback reports.</summary>
    ObservableUpDownCounter,

    /// <summary>An <see cref="System.Diagnostics.Metrics.ObservableGauge{T}"/>: a value its callback reports.</summary>
    ObservableGauge,

    /// <summary>A <see cref="System.Diagnostics.Metrics.Histogram{T}"/>: counts per bucket, a sum and a count.</summary>
    Histogram,
}

/// <summary>Names of <see cref="InstrumentKind"/>s as the outputs spell them.</summary>
internal static class InstrumentKinds
{
    /// <summary>The kind in snake case, e.g. <c>observable_gauge</c>: the JSON document's <c>kind</c>, and Prometheus's default help.</summary>
    public static string Name(InstrumentKind kind) => kind switch
    {
        InstrumentKind.Counter => "counter",
        InstrumentKind.UpDownCounter => "up_down_counter",
        InstrumentKind.Gauge => "gauge",
        InstrumentKind.ObservableCounter => "observable_counter",
        InstrumentKind.ObservableUpDownCounter => "observable_up_down_counter",
        InstrumentKind.ObservableGauge => "observable_gauge",
        _ => "histogram",
    };

    /// <summary>The Prometheus family type of <paramref name="kind"/>: counters (plain and observable), histograms, and gauges for the rest.</summary>
    public static string PrometheusType(InstrumentKind kind) => kind switch
    {
        InstrumentKind.Counter or InstrumentKind.ObservableCounter => PrometheusNames.Counter,
        InstrumentKind.Histogram => PrometheusNames.Histogram,
        _ => PrometheusNames.Gauge,
    };
}
