using System.Diagnostics.Metrics;

namespace StatsHandler;

/// <summary>
/// One exported instrument as a capture copied it: what it is (<see cref="Instrument"/>, whose name, unit, description
/// and meter a format may write), its kind, its series and, for a histogram, its bucket bounds.
/// </summary>
/// <remarks>
/// <see cref="Instrument"/> is the same instance at every capture, so a format may key what it caches for an
/// instrument on it, by reference.
/// </remarks>
public readonly struct InstrumentSnapshot
{
    private readonly SeriesSnapshot[] _series;
    private readonly int _seriesStart;
    private readonly int _seriesCount;
    private readonly double[] _bounds;

    internal InstrumentSnapshot(InstrumentState state, SeriesSnapshot[] series, int seriesStart, int seriesCount)
    {
        Instrument = state.Instrument;
        Kind = state.Kind;
        PrometheusName = state.MetricName;
        DroppedSeries = state.DroppedSeries;
        _bounds = state.Bounds;
        _series = series;
        _seriesStart = seriesStart;
        _seriesCount = seriesCount;
    }

    /// <summary>The app's instrument: <c>Name</c>, <c>Unit</c>, <c>Description</c> and <c>Meter.Name</c> as the app gave them.</summary>
    public Instrument Instrument { get; }

    /// <summary>What kind of instrument it is, and so whether its series carry a value or histogram counts.</summary>
    public InstrumentKind Kind { get; }

    /// <summary>
    /// The family name the Prometheus output gives it (without a counter's <c>_total</c>): sanitised, with the unit's
    /// suffix, and numbered when two instruments would share one. Unique among the source's exports.
    /// </summary>
    public string PrometheusName { get; }

    /// <summary>Series not kept because the instrument reached the source's series cap.</summary>
    public long DroppedSeries { get; }

    /// <summary>A histogram's bucket upper bounds in the instrument's unit, increasing and finite; empty for other kinds.</summary>
    public ReadOnlySpan<double> Bounds => _bounds;

    /// <summary>The series, in the order they first appeared.</summary>
    public ReadOnlySpan<SeriesSnapshot> Series => _series.AsSpan(_seriesStart, _seriesCount);
}
