using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace StatsHandler;

/// <summary>
/// Listens to the app's own <see cref="Meter"/>s, chosen by name or prefix, and keeps an aggregate per instrument for
/// the capture to copy. One per stats source, made by its first <c>ExportMeters</c>; disposing it unsubscribes.
/// </summary>
/// <remarks>
/// Measurements arrive on any thread and are folded into <see cref="InstrumentState"/> without a lock once their
/// series exists (a new series takes the instrument's lock, to be added under the cap). The instrument
/// list is copy-on-write, so a scrape walks a stable array while meters come and go; an instrument whose meter is
/// disposed mid-scrape is still written from its last state, and is gone from the next scrape.
/// </remarks>
internal sealed class MeterBridge : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Lock _observeLock = new();
    private readonly MeterListener _listener;
    private readonly Func<int> _maxSeries;
    private readonly Func<bool>? _exemplarsOn;
    private readonly Func<string, bool> _nameTaken;
    private readonly Action<Exception> _report;
    private readonly HashSet<string> _claimed = new(StringComparer.Ordinal);

    // The sample names in _claimed as every scrape reads them: a copy, replaced (under _lock) when instruments come and go.
    private FrozenSet<string> _claimedView = FrozenSet<string>.Empty;

    // Instruments the listener was offered but no pattern matched, held weakly: a later ExportMeters call may match them,
    // and MeterListener offers each instrument only once.
    private readonly ConditionalWeakTable<Instrument, object> _unmatched = new();
    private bool _started;
    private (string Text, bool IsPrefix)[] _patterns = [];
    private InstrumentState[] _instruments = [];
    private bool _disposed;

    /// <param name="maxSeries">The current per-instrument series cap, read when a series is created.</param>
    /// <param name="nameTaken">True for names the instruments must not use (built-in families, published values).</param>
    /// <param name="report">Receives errors of observable instruments' callbacks.</param>
    /// <param name="exemplarsOn">Whether histograms keep exemplars of measurements taken inside an Activity, read at each such measurement.</param>
    public MeterBridge(Func<int> maxSeries, Func<string, bool> nameTaken, Action<Exception> report, Func<bool>? exemplarsOn = null)
    {
        _exemplarsOn = exemplarsOn;
        _maxSeries = maxSeries;
        _nameTaken = nameTaken;
        _report = report;
        _listener = new MeterListener
        {
            InstrumentPublished = OnInstrumentPublished,
            MeasurementsCompleted = OnMeasurementsCompleted,
        };
        // The state is null when a measurement races the instrument's disposal (its meter disposed mid-scrape): drop it.
        _listener.SetMeasurementEventCallback<byte>(static (i, v, t, s) => (s as InstrumentState)?.Record(v, t));
        _listener.SetMeasurementEventCallback<short>(static (i, v, t, s) => (s as InstrumentState)?.Record(v, t));
        _listener.SetMeasurementEventCallback<int>(static (i, v, t, s) => (s as InstrumentState)?.Record(v, t));
        _listener.SetMeasurementEventCallback<long>(static (i, v, t, s) => (s as InstrumentState)?.Record(v, t));
        _listener.SetMeasurementEventCallback<float>(static (i, v, t, s) => (s as InstrumentState)?.Record(v, t));
        _listener.SetMeasurementEventCallback<double>(static (i, v, t, s) => (s as InstrumentState)?.Record(v, t));
        _listener.SetMeasurementEventCallback<decimal>(static (i, v, t, s) => (s as InstrumentState)?.Record((double)v, t));
    }

    /// <summary>The instruments exported now, in the order they were published. Never modified: replaced.</summary>
    public InstrumentState[] Instruments => Volatile.Read(ref _instruments);

    /// <summary>True when an instrument's samples use <paramref name="name"/> (a published value must then give way).</summary>
    public bool Claims(string name) => Volatile.Read(ref _claimedView).Contains(name);

    /// <summary>
    /// Adds meter names to export: exact (<c>MyApp</c>) or a prefix ending in <c>*</c> (<c>MyApp.*</c> matches
    /// <c>MyApp.Orders</c>), and starts listening, which picks up existing and future instruments of those meters.
    /// </summary>
    public void Add(IEnumerable<string> patterns)
    {
        var offered = new List<Instrument>();
        bool start;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var all = new List<(string, bool)>(_patterns);
            foreach (string pattern in patterns)
            {
                bool isPrefix = pattern.EndsWith('*');
                all.Add((isPrefix ? pattern[..^1] : pattern, isPrefix));
            }

            _patterns = [.. all];
            start = !_started;
            _started = true;
            foreach (KeyValuePair<Instrument, object> pair in (IEnumerable<KeyValuePair<Instrument, object>>)_unmatched)
            {
                offered.Add(pair.Key);
            }
        }

        if (start)
        {
            // The first call: the listener is offered every instrument that exists, and every one created later.
            _listener.Start();
            return;
        }

        foreach (Instrument instrument in offered)
        {
            OnInstrumentPublished(instrument, _listener);
        }
    }

    /// <summary>
    /// Runs the callbacks of the observable instruments, so their values are current for this scrape. A scrape that
    /// arrives while another is running them does not queue to run them again: it writes the values being observed.
    /// </summary>
    public void Observe()
    {
        // One scrape at a time runs the app's callbacks: they need not be thread-safe, and the values stay coherent.
        // Under a burst of scrapes the others go on rather than wait in line for the same values.
        if (!_observeLock.TryEnter())
        {
            return;
        }

        try
        {
            _listener.RecordObservableInstruments();
        }
        catch (Exception e)
        {
            // Callbacks are user code; the runtime observes them all and then throws what they threw, aggregated.
            _report(new InvalidOperationException($"An observable instrument's callback threw; its value was not updated: {e.Message}", e));
        }
        finally
        {
            _observeLock.Exit();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        // Disposing the listener completes every instrument (OnMeasurementsCompleted) and stops all callbacks.
        _listener.Dispose();
    }

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        InstrumentKind? kind = KindOf(instrument);
        if (kind is null)
        {
            return;
        }

        InstrumentState state;
        lock (_lock)
        {
            if (_disposed || Array.Exists(_instruments, s => ReferenceEquals(s.Instrument, instrument)))
            {
                return;
            }

            if (!Matches(instrument.Meter.Name))
            {
                _unmatched.AddOrUpdate(instrument, _unmatched);
                return;
            }

            _unmatched.Remove(instrument);

            bool isGauge = InstrumentKinds.PrometheusType(kind.Value) == PrometheusNames.Gauge;
            string name = UniqueName(PrometheusNames.MetricName(instrument.Name, instrument.Unit, isGauge), kind.Value);
            state = new InstrumentState(instrument, kind.Value, name, _maxSeries, _exemplarsOn);
            foreach (string sample in SampleNames(name, kind.Value))
            {
                _claimed.Add(sample);
            }

            Volatile.Write(ref _claimedView, _claimed.ToFrozenSet(StringComparer.Ordinal));

            _instruments = [.. _instruments, state];
        }

        listener.EnableMeasurementEvents(instrument, state);
    }

    private void OnMeasurementsCompleted(Instrument instrument, object? state)
    {
        if (state is not InstrumentState completed)
        {
            return;
        }

        lock (_lock)
        {
            _instruments = Array.FindAll(_instruments, s => !ReferenceEquals(s, completed));
            foreach (string sample in SampleNames(completed.MetricName, completed.Kind))
            {
                _claimed.Remove(sample);
            }

            Volatile.Write(ref _claimedView, _claimed.ToFrozenSet(StringComparer.Ordinal));
        }
    }

    private bool Matches(string meterName)
    {
        foreach ((string text, bool isPrefix) in _patterns)
        {
            if (isPrefix ? meterName.StartsWith(text, StringComparison.Ordinal) : meterName == text)
            {
                return true;
            }
        }

        return false;
    }

    private string UniqueName(string name, InstrumentKind kind)
    {
        // Two instruments (or an instrument and a built-in family) may map to one name: number the later ones.
        string candidate = name;
        for (int n = 2; IsTaken(candidate, kind); n++)
        {
            candidate = $"{name}_{n}";
        }

        return candidate;
    }

    private bool IsTaken(string name, InstrumentKind kind)
    {
        foreach (string sample in SampleNames(name, kind))
        {
            if (_claimed.Contains(sample) || _nameTaken(sample))
            {
                return true;
            }
        }

        return false;
    }

    private static string[] SampleNames(string name, InstrumentKind kind) =>
        PrometheusNames.SampleNames(name, InstrumentKinds.PrometheusType(kind));

    private static InstrumentKind? KindOf(Instrument instrument)
    {
        Type type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return null;
        }

        Type definition = type.GetGenericTypeDefinition();
        return definition == typeof(Counter<>) ? InstrumentKind.Counter
            : definition == typeof(UpDownCounter<>) ? InstrumentKind.UpDownCounter
            : definition == typeof(Gauge<>) ? InstrumentKind.Gauge
            : definition == typeof(Histogram<>) ? InstrumentKind.Histogram
            : definition == typeof(ObservableCounter<>) ? InstrumentKind.ObservableCounter
            : definition == typeof(ObservableUpDownCounter<>) ? InstrumentKind.ObservableUpDownCounter
            : definition == typeof(ObservableGauge<>) ? InstrumentKind.ObservableGauge
            : null;
    }
}
