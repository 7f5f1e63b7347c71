using System.Collections.Frozen;
using System.Diagnostics;

namespace StatsHandler;

/// <summary>
/// What the handlers export beside the runtime snapshot: published values (Go's <c>expvar.Publish</c>) and the app's
/// own <see cref="System.Diagnostics.Metrics.Meter"/>s, plus the runtime probe the handlers share, so every endpoint
/// given one registry shows the same values and the same counts (<c>exception_num</c> and <c>dotnet_exceptions_total</c>).
/// </summary>
/// <remarks>
/// <para>Every <see cref="StatsServer"/> has one, <see cref="StatsServer.Registry"/>: its <c>Publish</c>,
/// <c>ExportMeters</c> and <c>MaxSeriesPerInstrument</c> forward to it and the handlers it mounts read it. Give it to a
/// handler you build yourself to combine options and exports:
/// <c>server.Handle("/api/stats", new RuntimeStatsHandler(options, server.Registry))</c>. A registry you create is yours
/// to dispose; the server disposes its own.</para>
/// <para>Thread-safe. Values and meters may be added while handlers serve; they show from the next request on.</para>
/// </remarks>
public sealed class StatsRegistry : IDisposable
{
    /// <summary>The series cap per instrument when none is set.</summary>
    public const int DefaultMaxSeriesPerInstrument = 1000;

    /// <summary>Prefixes of the built-in Prometheus families; published names may not start with them.</summary>
    internal static readonly FrozenSet<string> ReservedPrefixes = FrozenSet.ToFrozenSet(["process_", "dotnet_", "statshandler_"], StringComparer.Ordinal);

    private readonly Lock _lock = new();
    private readonly Action<Exception>? _fallbackReport;
    private Action<Exception>? _onError;
    private PublishedValue[] _published = [];
    private MeterBridge? _meters;
    private SharedRuntimeProbe? _probe;
    private GcEventLog? _gcEvents;
    private IDisposable? _gcSubscription;
    private ConstantLabels _constantLabels = ConstantLabels.None;
    private int _maxSeries = DefaultMaxSeriesPerInstrument;
    private bool _disposed;

    /// <summary>Creates an empty registry.</summary>
    public StatsRegistry()
    {
    }

    /// <param name="report">Where errors in user callbacks go unless <see cref="OnError"/> says otherwise: the server's error callback.</param>
    internal StatsRegistry(Action<Exception> report) => _fallbackReport = report;

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

    /// <summary>The published values, in the order they were published. Never modified: replaced.</summary>
    internal PublishedValue[] Published => Volatile.Read(ref _published);

    /// <summary>The meter bridge, once <see cref="ExportMeters"/> has been called.</summary>
    internal MeterBridge? Meters => Volatile.Read(ref _meters);

    /// <summary>Every collection's pause, generation and reason, once <see cref="EnableGcEvents"/> has been called.</summary>
    internal GcEventLog? GcEvents => Volatile.Read(ref _gcEvents);

    /// <summary>
    /// Sets the callback that receives errors of the app's callbacks (a published value's or an observable instrument's):
    /// the value is left out of that response and the error passed here. Without one, a server's registry reports to
    /// <see cref="StatsServer.OnError"/> and another registry writes a <see cref="Trace"/> warning.
    /// </summary>
    /// <param name="callback">Called on the request's thread; an exception it throws is traced and otherwise ignored.</param>
    /// <returns>This registry, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    public StatsRegistry OnError(Action<Exception> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        Volatile.Write(ref _onError, callback);
        return this;
    }

    /// <summary>
    /// Adds a label that every Prometheus sample of this registry's handlers carries, built-in families and the app's
    /// alike: <c>AddConstantLabel("service", "orders")</c>. Set it once, before the first scrape, so series keep their
    /// identity. A sample that already has a label of that name (such as <c>dotnet_runtime_info</c>'s <c>version</c>)
    /// keeps its own. The JSON document is not changed.
    /// </summary>
    /// <param name="name">A label name (<c>[a-zA-Z_][a-zA-Z0-9_]*</c>), not starting with <c>__</c>, and not <c>le</c> or <c>quantile</c>.</param>
    /// <param name="value">Any text; it is escaped as Prometheus requires.</param>
    /// <returns>This registry, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException">The name is not a valid label name, is reserved, or is set already.</exception>
    /// <exception cref="ObjectDisposedException">The registry has been disposed.</exception>
    public StatsRegistry AddConstantLabel(string name, string value)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Volatile.Write(ref _constantLabels, _constantLabels.With(name, value));
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
    /// <returns>This registry, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not Prometheus-safe, or starts with a built-in prefix (<c>process_</c>, <c>dotnet_</c>, <c>statshandler_</c>).</exception>
    /// <exception cref="InvalidOperationException">A value of that name is already published.</exception>
    /// <exception cref="ObjectDisposedException">The registry has been disposed.</exception>
    public StatsRegistry Publish(string name, Func<long> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Publish(PublishedValue.Of(ValidatePublishedName(name), value));
    }

    /// <summary>Publishes a floating-point number; see <see cref="Publish(string, Func{long})"/>. NaN and infinities are <c>null</c> in JSON.</summary>
    /// <param name="name">A Prometheus-safe name (<c>[a-zA-Z_][a-zA-Z0-9_]*</c>), such as <c>hit_ratio</c>.</param>
    /// <param name="value">Returns the current value; called on a request's thread.</param>
    /// <returns>This registry, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not Prometheus-safe, or starts with a built-in prefix.</exception>
    /// <exception cref="InvalidOperationException">A value of that name is already published.</exception>
    /// <exception cref="ObjectDisposedException">The registry has been disposed.</exception>
    public StatsRegistry Publish(string name, Func<double> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Publish(PublishedValue.Of(ValidatePublishedName(name), value));
    }

    /// <summary>Publishes a boolean; see <see cref="Publish(string, Func{long})"/>. In Prometheus it is a gauge of 1 or 0.</summary>
    /// <param name="name">A Prometheus-safe name (<c>[a-zA-Z_][a-zA-Z0-9_]*</c>), such as <c>ready</c>.</param>
    /// <param name="value">Returns the current value; called on a request's thread.</param>
    /// <returns>This registry, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not Prometheus-safe, or starts with a built-in prefix.</exception>
    /// <exception cref="InvalidOperationException">A value of that name is already published.</exception>
    /// <exception cref="ObjectDisposedException">The registry has been disposed.</exception>
    public StatsRegistry Publish(string name, Func<bool> value)
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
    /// <returns>This registry, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not Prometheus-safe, or starts with a built-in prefix.</exception>
    /// <exception cref="InvalidOperationException">A value of that name is already published.</exception>
    /// <exception cref="ObjectDisposedException">The registry has been disposed.</exception>
    public StatsRegistry Publish(string name, Func<string?> value)
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
    /// <returns>This registry, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="meterNames"/> or one of its names is null.</exception>
    /// <exception cref="ArgumentException">No name is given, a name is empty, or <c>*</c> appears other than at the end.</exception>
    /// <exception cref="ObjectDisposedException">The registry has been disposed.</exception>
    public StatsRegistry ExportMeters(params string[] meterNames)
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
            meters = _meters ??= new MeterBridge(() => MaxSeriesPerInstrument, IsTakenByPublished, Report);
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

    /// <summary>Starts feeding <see cref="GcEvents"/> from the process's GC event listener. Idempotent.</summary>
    /// <exception cref="ObjectDisposedException">The registry has been disposed.</exception>
    internal void EnableGcEvents()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_gcEvents is null)
            {
                var log = new GcEventLog();
                _gcSubscription = GcEventListener.Subscribe(log);
                Volatile.Write(ref _gcEvents, log);
            }
        }
    }

    /// <summary>The runtime probe every handler given this registry reads, created on first use.</summary>
    /// <exception cref="ObjectDisposedException">The registry has been disposed.</exception>
    internal IRuntimeProbe Probe()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _probe ??= new SharedRuntimeProbe(new RuntimeProbe());
        }
    }

    /// <summary>Passes an error in user code (a published value's or an observable instrument's callback) on.</summary>
    /// <summary>The labels every Prometheus sample gets.</summary>
    internal ConstantLabels ConstantLabels => Volatile.Read(ref _constantLabels);

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

    private StatsRegistry Publish(PublishedValue value)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (PublishedValue existing in _published)
            {
                if (existing.Name == value.Name)
                {
                    throw new InvalidOperationException(
                        $"A value named '{value.Name}' is already published in this registry; each name takes one value. Choose another name.");
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

        foreach (string prefix in ReservedPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"Invalid published name '{name}': the prefix '{prefix}' belongs to the built-in Prometheus families; choose another, for example 'app_{name[prefix.Length..]}'.",
                    nameof(name));
            }
        }

        return name;
    }

    private bool IsTakenByPublished(string name)
    {
        if (PrometheusFamilies.IsBuiltIn(name))
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
