using System.Diagnostics.Tracing;

namespace StatsHandler;

/// <summary>
/// Listens in-process to the runtime's GC events (<c>Microsoft-Windows-DotNETRuntime</c>, GC keyword, Informational)
/// and turns each collection's start, suspension, restart and end into one <see cref="GcCollection"/> for every
/// subscribed <see cref="GcEventLog"/>. Get one through <see cref="Subscribe"/>: one listener serves the whole process.
/// </summary>
/// <remarks>
/// <para>A blocking collection's pause is its suspension: <c>GCSuspendEEBegin</c> to <c>GCRestartEEEnd</c>, which
/// holds its <c>GCStart</c> and <c>GCEnd</c>. A background gen2 collection suspends briefly at its start and again to
/// finish marking, and ends while the process runs: its pause is the sum of the suspensions between its start and its
/// end that hold no collection of their own (foreground gen0/gen1 collections during it are listed apart).</para>
/// <para>The runtime delivers the events on one thread of its own; the state below is touched there only, under a lock
/// anyway because nothing documents that it stays so.</para>
/// </remarks>
internal sealed class GcEventListener : EventListener
{
    private const string RuntimeSourceName = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const int GCStart = 1;
    private const int GCEnd = 2;
    private const int GCRestartEEEnd = 3;
    private const int GCSuspendEEBegin = 9;
    private const int SuspendForGC = 1;
    private const int SuspendForGCPrep = 6;
    private const int BackgroundGC = 1;

    // The process-wide holder. The runtime's event source is itself one per process, and each EventListener on it
    // makes the runtime decode and dispatch every event once more, so all servers share one listener: created by the
    // first subscriber, disposed with the last. The only static mutable state in the library, behind this lock.
    private static readonly Lock HolderLock = new();
    private static GcEventListener? s_shared;

    private readonly Lock _stateLock = new();
    private GcEventLog[] _logs = [];
    private long _suspendedAt;
    private Pending _blocking;
    private Pending _background;

    private GcEventListener()
    {
    }

    /// <summary>The listener now serving the process, or null when no log is subscribed. For tests.</summary>
    internal static GcEventListener? Current
    {
        get
        {
            lock (HolderLock)
            {
                return s_shared;
            }
        }
    }

    /// <summary>Feeds <paramref name="log"/> from the process's listener, starting it if none runs.</summary>
    /// <returns>Dispose it to stop feeding the log; the last one disposed stops the listener.</returns>
    public static IDisposable Subscribe(GcEventLog log)
    {
        lock (HolderLock)
        {
            s_shared ??= new GcEventListener();
            GcEventListener listener = s_shared;
            lock (listener._stateLock)
            {
                listener._logs = [.. listener._logs, log];
            }

            return new Subscription(listener, log);
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        // Called from the base constructor for sources that already exist: use no field here.
        if (eventSource.Name == RuntimeSourceName)
        {
            EnableEvents(eventSource, EventLevel.Informational, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventId is not (GCStart or GCEnd or GCRestartEEEnd or GCSuspendEEBegin)
            || eventData.EventSource?.Name != RuntimeSourceName
            || eventData.Payload is not { } payload)
        {
            return;
        }

        long now = eventData.TimeStamp.Ticks;
        lock (_stateLock)
        {
            switch (eventData.EventId)
            {
                case GCSuspendEEBegin:
                    if (Number(payload, 0) is SuspendForGC or SuspendForGCPrep)
                    {
                        _suspendedAt = now;
                    }

                    break;
                case GCStart:
                    bool background = Number(payload, 3) == BackgroundGC;
                    var started = new Pending(true, Number(payload, 0), (int)Number(payload, 1), (int)Number(payload, 2), background, 0, false);
                    if (background)
                    {
                        _background = started;
                    }
                    else
                    {
                        _blocking = started;
                    }

                    break;
                case GCEnd:
                    long ended = Number(payload, 0);
                    if (_background.Active && _background.Index == ended)
                    {
                        _background = _background with { Ended = true };
                        if (_suspendedAt == 0)
                        {
                            Publish(_background);
                            _background = default;
                        }
                    }

                    break;
                default:
                    if (_suspendedAt == 0)
                    {
                        break;
                    }

                    long pause = Math.Max(0, now - _suspendedAt);
                    _suspendedAt = 0;
                    if (_blocking.Active)
                    {
                        Publish(_blocking with { PauseTicks = pause });
                        _blocking = default;
                    }
                    else if (_background.Active)
                    {
                        _background = _background with { PauseTicks = _background.PauseTicks + pause };
                        if (_background.Ended)
                        {
                            Publish(_background);
                            _background = default;
                        }
                    }

                    break;
            }
        }
    }

    private void Publish(in Pending collection)
    {
        var done = new GcCollection(
            collection.Index,
            collection.Generation,
            collection.Reason,
            collection.Background,
            collection.PauseTicks / (double)TimeSpan.TicksPerSecond);
        foreach (GcEventLog log in _logs)
        {
            log.Record(in done);
        }
    }

    private static long Number(System.Collections.ObjectModel.ReadOnlyCollection<object?> payload, int index) =>
        index < payload.Count && payload[index] is IConvertible value ? value.ToInt64(null) : -1;

    private void Unsubscribe(GcEventLog log)
    {
        lock (HolderLock)
        {
            bool last;
            lock (_stateLock)
            {
                _logs = Array.FindAll(_logs, l => !ReferenceEquals(l, log));
                last = _logs.Length == 0;
            }

            if (last && ReferenceEquals(s_shared, this))
            {
                s_shared = null;
                Dispose();
            }
        }
    }

    private readonly record struct Pending(bool Active, long Index, int Generation, int Reason, bool Background, long PauseTicks, bool Ended);

    private sealed class Subscription(GcEventListener listener, GcEventLog log) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                listener.Unsubscribe(log);
            }
        }
    }
}
