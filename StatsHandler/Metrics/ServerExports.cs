using System.Collections.Frozen;

namespace StatsHandler;

/// <summary>
/// What a server exports beside the runtime snapshot: published values and the app's Meters. One per server, shared
/// by every handler the server creates, so <c>/api/stats</c> and <c>/metrics</c> show the same things.
/// </summary>
internal sealed class ServerExports : IDisposable
{
    /// <summary>The default cap on series per instrument.</summary>
    public const int DefaultMaxSeriesPerInstrument = 1000;

    /// <summary>Prefixes of the built-in Prometheus families; published names may not start with them.</summary>
    public static readonly FrozenSet<string> ReservedPrefixes = FrozenSet.ToFrozenSet(["process_", "dotnet_", "statshandler_"], StringComparer.Ordinal);

    private readonly Lock _lock = new();
    private readonly Action<Exception> _report;
    private PublishedValue[] _published = [];
    private MeterBridge? _meters;
    private GcEventLog? _gcEvents;
    private IDisposable? _gcSubscription;
    private int _maxSeries = DefaultMaxSeriesPerInstrument;
    private bool _disposed;

    /// <param name="report">Where errors in user callbacks go: the server's error callback.</param>
    public ServerExports(Action<Exception> report) => _report = report;

    /// <summary>The published values, in the order they were published. Never modified: replaced.</summary>
    public PublishedValue[] Published => Volatile.Read(ref _published);

    /// <summary>The meter bridge, once <see cref="ExportMeters"/> has been called.</summary>
    public MeterBridge? Meters => Volatile.Read(ref _meters);

    /// <summary>Every collection's pause, generation and reason, once <see cref="EnableGcEvents"/> has been called.</summary>
    public GcEventLog? GcEvents => Volatile.Read(ref _gcEvents);

    /// <summary>Starts feeding <see cref="GcEvents"/> from the process's GC event listener. Idempotent.</summary>
    public void EnableGcEvents()
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

    /// <summary>The cap on series per instrument; applies to series created after it is set.</summary>
    public int MaxSeriesPerInstrument
    {
        get => Volatile.Read(ref _maxSeries);
        set => Volatile.Write(ref _maxSeries, value);
    }

    /// <summary>Adds a published value.</summary>
    /// <exception cref="InvalidOperationException">The name is taken.</exception>
    public void Publish(PublishedValue value)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (PublishedValue existing in _published)
            {
                if (existing.Name == value.Name)
                {
                    throw new InvalidOperationException(
                        $"A value named '{value.Name}' is already published on this server; each name takes one value. Choose another name.");
                }
            }

            Volatile.Write(ref _published, [.. _published, value]);
        }
    }

    /// <summary>Exports the meters matching <paramref name="patterns"/>, starting the listener on first use.</summary>
    public void ExportMeters(IEnumerable<string> patterns)
    {
        MeterBridge meters;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            meters = _meters ??= new MeterBridge(() => MaxSeriesPerInstrument, IsTakenByPublished, _report);
        }

        meters.Add(patterns);
    }

    /// <summary>Passes an error in user code (a published value's or an observable instrument's callback) to the server.</summary>
    public void Report(Exception error) => _report(error);

    public void Dispose()
    {
        MeterBridge? meters;
        IDisposable? gcSubscription;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            meters = _meters;
            gcSubscription = _gcSubscription;
        }

        meters?.Dispose();
        gcSubscription?.Dispose();
    }

    private bool IsTakenByPublished(string name)
    {
        if (PrometheusFamilies.IsBuiltIn(name))
        {
            return true;
        }

        foreach (PublishedValue value in Published)
        {
            if (value.IsNumeric && value.Name == name)
            {
                return true;
            }
        }

        return false;
    }
}
