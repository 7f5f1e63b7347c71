using System.Diagnostics;

namespace StatsHandler;

/// <summary>
/// What the handlers capture from: the runtime probe they share (so every endpoint shows the same counts, the JSON
/// <c>exception_num</c> and Prometheus's <c>dotnet_exceptions_total</c> alike), the GC events, published values (Go's
/// <c>expvar.Publish</c>), the app's own <see cref="System.Diagnostics.Metrics.Meter"/>s, the Prometheus constant labels,
/// and where the app's callbacks' errors go.
/// </summary>
/// <remarks>
/// <para>Every <see cref="StatsServer"/> has one, <see cref="StatsServer.Source"/>; the server's <c>Publish</c>,
/// <c>ExportMeters</c>, <c>EnableGcEvents</c>, <c>AddConstantLabel</c> and <c>MaxSeriesPerInstrument</c> are plain
/// forwards to it, so the rules below are the same through either door. Give it to a handler you build yourself
/// (<c>new RuntimeStatsHandler(server.Source, options)</c>) or to a <see cref="RuntimeStatsCollector"/> so they read the
/// same probe. A source you create is yours to dispose; the server disposes its own.</para>
/// <para>The rules: values, meters and GC events may be added at any time and show from the next request on; constant
/// labels only until the source is in service (its server has started, or a handler has captured from it), so a series
/// keeps its identity; after <see cref="Dispose"/> every change throws <see cref="ObjectDisposedException"/>.</para>
/// <para>Thread-safe.</para>
/// </remarks>
public sealed class StatsSource : IDisposable
{
    /// <summary>The series cap per instrument when none is set.</summary>
    public const int DefaultMaxSeriesPerInstrument = 1000;

    private readonly Lock _lock = new();
    private readonly Action<Exception>? _fallbackReport;
    private Action<Exception>? _onError;
    private PublishedValue[] _published = [];
    private MeterBridge? _meters;
    private SharedRuntimeProbe? _probe;
    private GcEventLog? _gcEvents;
    private IDisposable? _gcSubscription;
    private KeyValuePair<string, string>[] _constantLabels = [];
    private int _maxSeries = DefaultMaxSeriesPerInstrument;
    private bool _exemplars = true;
    private bool _inService;
    private bool _disposed;

    /// <summary>Creates an empty source, with no probe until a handler or collector first reads it.</summary>
    public StatsSource()
    {
    }

    /// <param name="report">Where errors in user callbacks go unless <see cref="OnError"/> says otherwise: the server's error callback.</param>
    internal StatsSource(Action<Exception> report) => _fallbackReport = report;

    /// <summary>
    /// The most series (distinct tag sets) kept per exported instrument: 1,000 by default. Measurements with a new tag
    /// set beyond it are dropped and counted in the <c>statshandler_dropped_series_total</c> family, so a tag with
    /// unbounded values cannot exhaust memory. Applies to series created after it is set.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not between 1 and 1,000,000.</exception>
    public int MaxSeriesPerInstrument
    {
        get => Volatile.Read(ref _maxSeries);
        set
        {
            if (value is < 1 or > 1_000_000)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(value), value, $"Series cap {value} must be between 1 and 1,000,000, for example 1000 (the default).");
            }

            Volatile.Write(ref _maxSeries, value);
        }
    }

    /// <summary>
    /// Whether exported histograms keep exemplars: for a measurement taken inside an <see cref="System.Diagnostics.Activity"/>,
    /// the trace and span id, value and time of the latest one per bucket, served in OpenMetrics and in the protobuf
    /// exposition (the text format 0.0.4 has no place for them). On by default; a measurement outside an Activity costs
    /// one check of <see cref="System.Diagnostics.Activity.Current"/> either way.
    /// </summary>
    public bool Exemplars
    {
        get => Volatile.Read(ref _exemplars);
        set => Volatile.Write(ref _exemplars, value);
    }

    /// <summary>The published values, in the order they were published. Never modified: replaced.</summary>
    internal PublishedValue[] Published => Volatile.Read(ref _published);

    /// <summary>The meter bridge, once <see cref="ExportMeters"/> has been called.</summary>
    internal MeterBridge? Meters => Volatile.Read(ref _meters);

    /// <summary>Every collection's pause, generation and reason, once <see cref="EnableGcEvents()"/> has been called.</summary>
    internal GcEventLog? GcEvents => Volatile.Read(ref _gcEvents);

    /// <summary>
    /// Where the GC events come from once <see cref="EnableGcEvents()"/> has been called: <c>diagnostic_port</c> (a session
    /// on the process's own diagnostic port) or <c>event_listener</c> (the in-process fallback); null while they are off.
    /// The JSON's <c>gc_events_source</c> says the same.
    /// </summary>
    public string? GcEventSource => GcEvents?.Source;

    /// <summary>
    /// Why the GC events come from the in-process listener rather than the diagnostic port (for example
    /// <c>DOTNET_EnableDiagnostics=0 turns the diagnostic port off</c>); null when the port feeds them or they are off.
    /// </summary>
    public string? GcEventFallbackReason => GcEvents?.FallbackReason;

    /// <summary>The labels every Prometheus sample gets, in the order added. Never modified: replaced.</summary>
    internal KeyValuePair<string, string>[] ConstantLabelArray => Volatile.Read(ref _constantLabels);

    /// <summary>
    /// Sets the callback that receives errors of the app's callbacks (a published value's or an observable instrument's):
    /// the value is left out of that response and the error passed here. Without one, a server's source reports to
    /// <see cref="StatsServer.OnError"/> and another source writes a <see cref="Trace"/> warning.
    /// </summary>
    /// <param name="callback">Called on the request's thread; an exception it throws is traced and otherwise ignored.</param>
    /// <returns>This source, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    public StatsSource OnError(Action<Exception> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        Volatile.Write(ref _onError, callback);
        return this;
    }

    /// <summary>
    /// Adds a label that every Prometheus sample of this source's handlers carries, built-in families and the app's
    /// alike: <c>AddConstantLabel("service", "orders")</c>. Only before the source is in service (its server started, or
    /// a handler captured from it), so series keep their identity. A sample that already has a label of that name (such
    /// as <c>dotnet_runtime_info</c>'s <c>version</c>) keeps its own. The JSON document is not changed.
    /// </summary>
    /// <param name="name">A label name (<c>[a-zA-Z_][a-zA-Z0-9_]*</c>), not starting with <c>__</c>, and not <c>le</c> or <c>quantile</c>.</param>
    /// <param name="value">Any text; it is escaped as Prometheus requires.</param>
    /// <returns>This source, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException">The name is not a valid label name, is reserved, or is set already.</exception>
    /// <exception cref="InvalidOperationException">The source is in service already.</exception>
    /// <exception cref="ObjectDisposedException">The source has been disposed.</exception>
    public StatsSource AddConstantLabel(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        PrometheusNames.ValidateConstantLabelName(name, nameof(name));
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_inService)
            {
                throw new InvalidOperationException(
                    $"Cannot add the constant label '{name}': the source has already started serving (its server started, or a handler " +
                    "captured from it), and a label added now would change every series' identity. Add constant labels before StartAsync.");
            }

            if (Array.Exists(_constantLabels, l => l.Key == name))
            {
                throw new ArgumentException($"The constant label '{name}' is set already; each name takes one value.", nameof(name));
            }

            Volatile.Write(ref _constantLabels, [.. _constantLabels, new(name, PublishedValue.ValidUtf16(value))]);
        }

        return this;
    }

    /// <summary>
    /// Publishes an integer, like Go's <c>expvar.Publish</c>: <paramref name="value"/> is called at each request and its
    /// result shows under <c>published</c> in the JSON document and as a gauge named <paramref name="name"/> in the
    /// Prometheus output. A callback that throws is left out of that response and reported (<see cref="OnError"/>).
    /// </summary>
    /// <param name="name">A Prometheus-safe name (<c>[a-zA-Z_][a-zA-Z0-9_]*</c>), such as <c>queue_depth</c>.</param>
    /// <param name="value">Returns the current value; called on a request's thread, so it must be thread-safe and quick.</param>
    /// <returns>This source, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not Prometheus-safe, or starts with a built-in prefix (<c>process_</c>, <c>dotnet_</c>, <c>statshandler_</c>).</exception>
    /// <exception cref="InvalidOperationException">A value of that name is already published.</exception>
    /// <exception cref="ObjectDisposedException">The source has been disposed.</exception>
    public StatsSource Publish(string name, Func<long> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Publish(PublishedValue.Of(ValidatePublishedName(name), value));
    }

    /// <summary>Publishes a floating-point number; see <see cref="Publish(string, Func{long})"/>. NaN and infinities are <c>null</c> in JSON.</summary>
    /// <param name="name">A Prometheus-safe name (<c>[a-zA-Z_][a-zA-Z0-9_]*</c>), such as <c>hit_ratio</c>.</param>
    /// <param name="value">Returns the current value; called on a request's thread.</param>
    /// <returns>This source, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not Prometheus-safe, or starts with a built-in prefix.</exception>
    /// <exception cref="InvalidOperationException">A value of that name is already published.</exception>
    /// <exception cref="ObjectDisposedException">The source has been disposed.</exception>
    public StatsSource Publish(string name, Func<double> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Publish(PublishedValue.Of(ValidatePublishedName(name), value));
    }

    /// <summary>Publishes a boolean; see <see cref="Publish(string, Func{long})"/>. In Prometheus it is a gauge of 1 or 0.</summary>
    /// <param name="name">A Prometheus-safe name (<c>[a-zA-Z_][a-zA-Z0-9_]*</c>), such as <c>ready</c>.</param>
    /// <param name="value">Returns the current value; called on a request's thread.</param>
    /// <returns>This source, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not Prometheus-safe, or starts with a built-in prefix.</exception>
    /// <exception cref="InvalidOperationException">A value of that name is already published.</exception>
    /// <exception cref="ObjectDisposedException">The source has been disposed.</exception>
    public StatsSource Publish(string name, Func<bool> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Publish(PublishedValue.Of(ValidatePublishedName(name), value));
    }

    /// <summary>
    /// Publishes a string; see <see cref="Publish(string, Func{long})"/>. In Prometheus it is an info family,
    /// <c>name_info{value="..."} 1</c> (left out while the callback returns null): a build version or commit, say.
    /// </summary>
    /// <param name="name">A Prometheus-safe name (<c>[a-zA-Z_][a-zA-Z0-9_]*</c>), such as <c>build_commit</c>.</param>
    /// <param name="value">Returns the current value (null is written as <c>null</c>); called on a request's thread.</param>
    /// <returns>This source, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not Prometheus-safe, or starts with a built-in prefix.</exception>
    /// <exception cref="InvalidOperationException">A value of that name is already published.</exception>
    /// <exception cref="ObjectDisposedException">The source has been disposed.</exception>
    public StatsSource Publish(string name, Func<string?> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Publish(PublishedValue.Of(ValidatePublishedName(name), value));
    }

    /// <summary>
    /// Exports the app's own <see cref="System.Diagnostics.Metrics.Meter"/>s: every counter, up-down counter, gauge,
    /// histogram and observable instrument of the meters named shows in the JSON document (<c>meters</c>) and in the
    /// Prometheus output. Measurements are collected from this call on; observable instruments are read at each request.
    /// </summary>
    /// <param name="meterNames">
    /// Meter names: exact (<c>"MyApp"</c>), or a prefix ending in <c>*</c> (<c>"MyApp.*"</c> matches <c>MyApp.Orders</c>;
    /// <c>"*"</c> matches every meter). Call again to add more.
    /// </param>
    /// <returns>This source, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="meterNames"/> or one of its names is null.</exception>
    /// <exception cref="ArgumentException">No name is given, a name is empty, or <c>*</c> appears other than at the end.</exception>
    /// <exception cref="ObjectDisposedException">The source has been disposed.</exception>
    public StatsSource ExportMeters(params string[] meterNames)
    {
        ArgumentNullException.ThrowIfNull(meterNames);
        if (meterNames.Length == 0)
        {
            throw new ArgumentException("Give at least one meter name to export, for example ExportMeters(\"MyApp\") or ExportMeters(\"MyApp.*\").", nameof(meterNames));
        }

        foreach (string name in meterNames)
        {
            ArgumentNullException.ThrowIfNull(name, nameof(meterNames));
            int star = name.IndexOf('*', StringComparison.Ordinal);
            if (name.Trim().Length == 0 || (star >= 0 && star != name.Length - 1))
            {
                throw new ArgumentException(
                    $"Invalid meter name '{name}': give a meter's exact name ('MyApp') or a prefix ending in '*' ('MyApp.*'); '*' may appear only at the end.",
                    nameof(meterNames));
            }
        }

        MeterBridge meters;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            meters = _meters ??= new MeterBridge(() => MaxSeriesPerInstrument, IsTakenByPublished, Report, () => Exemplars);
        }

        meters.Add(meterNames);
        return this;
    }

    /// <summary>Stops listening to the meters and GC events and releases the shared runtime probe. Idempotent.</summary>
    public void Dispose()
    {
        MeterBridge? meters;
        SharedRuntimeProbe? probe;
        IDisposable? gcSubscription;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            meters = _meters;
            probe = _probe;
            gcSubscription = _gcSubscription;
        }

        meters?.Dispose();
        gcSubscription?.Dispose();
        probe?.Release();
    }

    /// <summary>
    /// Records every garbage collection from the runtime's own GC events: <c>gc_pause</c> then lists every collection's
    /// pause (newest first, up to 256) with <c>gc_pause_gen</c>, <c>gc_pause_reason</c> and <c>gc_pause_num</c> beside it,
    /// and the Prometheus output gains the <c>dotnet_gc_pause_seconds</c> histogram and collections by reason. Off by
    /// default; callable at any time; idempotent.
    /// </summary>
    /// <remarks>
    /// One source of GC events serves every source of the process that enables this, and stops with the last of them to be
    /// disposed: a session on the process's own diagnostic port (four events of the GC keyword, read on a thread of its
    /// own), or, where the port is off (<c>DOTNET_EnableDiagnostics=0</c>, no socket, Native AOT without EventPipe), an
    /// in-process <see cref="System.Diagnostics.Tracing.EventListener"/>; <see cref="GcEventSource"/> says which.
    /// <para>Cost through the port, at ~200 gen0 collections a second (<c>./build.sh bench gcpaired</c>, three runs on a
    /// quiet 2-core machine): the app ran 0.4-0.9% slower in wall time, and the process spent 2.0-2.3% more CPU (the
    /// runtime writing the four events, its streaming thread and the reading thread, mostly on another core); events reach
    /// the log within the runtime's 100 ms flush. Idle it costs nothing measurable: the reading thread blocks.</para>
    /// <para>Cost through the listener (the fallback): 1.1-1.7% wall and 2.5-3.7% process CPU in the same runs, and 7 KB of
    /// allocation per collection, nearly all of it the runtime decoding 19 events per gen0 collection into boxed fields
    /// for any in-process listener. A process that collects thousands of times a second runs about twice as slow with the
    /// listener. Check the rate of <c>gc_num</c> first; see docs/gc-events.md.</para>
    /// </remarks>
    /// <returns>This source, for chaining.</returns>
    /// <exception cref="ObjectDisposedException">The source has been disposed.</exception>
    public StatsSource EnableGcEvents() => EnableGcEvents(GcEventSourceKind.DiagnosticPort);

    /// <summary>As <see cref="EnableGcEvents()"/>, from the source kind given: tests and benchmarks force the listener with it.</summary>
    /// <exception cref="ObjectDisposedException">The source has been disposed.</exception>
    internal StatsSource EnableGcEvents(GcEventSourceKind source)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_gcEvents is null)
            {
                var log = new GcEventLog();
                _gcSubscription = GcEventFeed.Subscribe(log, source);
                Volatile.Write(ref _gcEvents, log);
            }
        }

        return this;
    }

    /// <summary>Puts the source in service: from now on constant labels are fixed. Called by the server's start and by every capture.</summary>
    internal void MarkInService()
    {
        if (!Volatile.Read(ref _inService))
        {
            lock (_lock)
            {
                _inService = true;
            }
        }
    }

    /// <summary>The runtime probe every handler and collector given this source reads, created on first use.</summary>
    /// <exception cref="ObjectDisposedException">The source has been disposed.</exception>
    internal IRuntimeProbe Probe()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _probe ??= new SharedRuntimeProbe(new RuntimeProbe());
        }
    }

    /// <summary>Reports, once per value, that an instrument's Prometheus name hides <paramref name="value"/> there.</summary>
    internal void ReportClash(PublishedValue value)
    {
        if (value.MarkClashReported())
        {
            Report(new InvalidOperationException(
                $"Published value '{value.Name}' is left out of the Prometheus output: an exported instrument already writes " +
                $"the name '{value.SampleName}'. The JSON document still shows it under 'published'. Publish it under another name."));
        }
    }

    /// <summary>Passes an error in user code (a published value's or an observable instrument's callback) on.</summary>
    internal void Report(Exception error)
    {
        Action<Exception>? callback = Volatile.Read(ref _onError) ?? _fallbackReport;
        if (callback is null)
        {
            Trace.TraceWarning("StatsHandler: {0}", error);
            return;
        }

        try
        {
            callback(error);
        }
        catch (Exception callbackFailure)
        {
            // The app's own error callback failed: nothing is left to tell but the trace.
            Trace.TraceError("StatsHandler: the OnError callback threw {0} while reporting {1}", callbackFailure, error);
        }
    }

    private StatsSource Publish(PublishedValue value)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (PublishedValue existing in _published)
            {
                if (existing.Name == value.Name)
                {
                    throw new InvalidOperationException(
                        $"A value named '{value.Name}' is already published in this source; each name takes one value. Choose another name.");
                }

                if (existing.SampleName == value.SampleName)
                {
                    throw new InvalidOperationException(
                        $"Published values '{existing.Name}' and '{value.Name}' would both write the Prometheus sample '{value.SampleName}' " +
                        "(text is written as NAME_info). Choose another name for one of them.");
                }
            }

            Volatile.Write(ref _published, [.. _published, value]);
        }

        if (Volatile.Read(ref _onError) is not null && _meters?.Claims(value.SampleName) == true)
        {
            // Known at once: say so now rather than at the first scrape.
            ReportClash(value);
        }

        return this;
    }

    private static string ValidatePublishedName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!PrometheusNames.IsValidName(name))
        {
            throw new ArgumentException(
                $"Invalid published name '{name}': use letters, digits and underscores, not starting with a digit ([a-zA-Z_][a-zA-Z0-9_]*), for example 'queue_depth'.",
                nameof(name));
        }

        if (PrometheusNames.ReservedPrefixOf(name) is { } prefix)
        {
            throw new ArgumentException(
                $"Invalid published name '{name}': the prefix '{prefix}' belongs to the built-in Prometheus families; choose another, for example 'app_{name[prefix.Length..]}'.",
                nameof(name));
        }

        return name;
    }

    private bool IsTakenByPublished(string name)
    {
        if (PrometheusNames.IsBuiltIn(name))
        {
            return true;
        }

        foreach (PublishedValue value in Published)
        {
            if (value.SampleName == name)
            {
                return true;
            }
        }

        return false;
    }
}
