namespace StatsHandler;

/// <summary>Where a process's GC events come from.</summary>
internal enum GcEventSourceKind
{
    /// <summary>A session on the process's own diagnostic port, read by a thread of its own (the default where a port exists).</summary>
    DiagnosticPort,

    /// <summary>An in-process <see cref="System.Diagnostics.Tracing.EventListener"/>: the fallback.</summary>
    EventListener,
}

/// <summary>
/// The process's one source of GC events and the logs it feeds: created by the first subscriber, stopped with the last.
/// It uses the diagnostic port where there is one and an in-process listener where there is not (or when the port's
/// session fails), and tells each log which it is.
/// </summary>
/// <remarks>
/// The runtime's events are one stream per process and each session or listener on them costs the process again, so
/// all servers share one feed. The holder below is the library's only static mutable state, behind its lock.
/// </remarks>
internal sealed class GcEventFeed : IDisposable
{
    /// <summary>The JSON name of the port source.</summary>
    public const string PortName = "diagnostic_port";

    /// <summary>The JSON name of the listener source.</summary>
    public const string ListenerName = "event_listener";

    private static readonly Lock HolderLock = new();
    private static readonly GcEventFeed?[] Feeds = new GcEventFeed?[2];

    private readonly GcEventSourceKind _slot;
    private GcEventLog[] _logs = [];
    private IDisposable? _source;
    private string _sourceName = ListenerName;

    private GcEventFeed(GcEventSourceKind slot) => _slot = slot;

    /// <summary>Which source feeds the logs now: <see cref="PortName"/> or <see cref="ListenerName"/>.</summary>
    public string SourceName => Volatile.Read(ref _sourceName);

    /// <summary>The source now running: a <see cref="GcEventPortSource"/> or a <see cref="GcEventListener"/>. For tests and benchmarks.</summary>
    internal IDisposable? Source => _source;

    /// <summary>Why the port is not used, when it is not; null otherwise.</summary>
    public string? FallbackReason { get; private set; }

    /// <summary>The feed now serving the process for <paramref name="slot"/>, or null. For tests.</summary>
    internal static GcEventFeed? Current(GcEventSourceKind slot = GcEventSourceKind.DiagnosticPort)
    {
        lock (HolderLock)
        {
            return Feeds[(int)slot];
        }
    }

    /// <summary>
    /// Feeds <paramref name="log"/> with every collection from now on, starting the process's source if none runs: the
    /// diagnostic port unless it is missing or <paramref name="source"/> asks for the listener.
    /// </summary>
    /// <returns>Dispose it to stop feeding the log; the last one disposed stops the source.</returns>
    public static IDisposable Subscribe(GcEventLog log, GcEventSourceKind source = GcEventSourceKind.DiagnosticPort)
    {
        lock (HolderLock)
        {
            GcEventFeed feed = Feeds[(int)source] ??= Start(source);
            log.SetSource(feed.SourceName, feed.FallbackReason);
            feed._logs = [.. feed._logs, log];
            return new Subscription(feed, log);
        }
    }

    /// <summary>Adds a collection to every log. Called on the source's thread.</summary>
    public void Publish(in GcCollection collection)
    {
        foreach (GcEventLog log in Volatile.Read(ref _logs))
        {
            log.Record(in collection);
        }
    }

    /// <summary>
    /// The port's session ended without being asked to (the runtime closed it, or its stream broke): the listener takes
    /// over, so the logs go on. Called off the reading thread.
    /// </summary>
    public void SourceFailed(IDisposable failed, string reason)
    {
        lock (HolderLock)
        {
            if (!ReferenceEquals(_source, failed) || Feeds[(int)_slot] != this)
            {
                return;
            }

            failed.Dispose();
            FallbackReason = $"the diagnostic port's session ended: {reason}";
            UseListener();
        }
    }

    private static GcEventFeed Start(GcEventSourceKind source)
    {
        var feed = new GcEventFeed(source);
        if (source == GcEventSourceKind.DiagnosticPort)
        {
            feed.FallbackReason = DiagnosticPort.Unavailable();
            if (feed.FallbackReason is null)
            {
                try
                {
                    feed._source = GcEventPortSource.Start(feed);
                    feed._sourceName = PortName;
                    return feed;
                }
                catch (IOException e)
                {
                    feed.FallbackReason = e.Message;
                }
            }
        }

        feed.UseListener();
        return feed;
    }

    private void UseListener()
    {
        _source = new GcEventListener(this);
        Volatile.Write(ref _sourceName, ListenerName);
        foreach (GcEventLog log in Volatile.Read(ref _logs))
        {
            log.SetSource(ListenerName, FallbackReason);
        }
    }

    private void Unsubscribe(GcEventLog log)
    {
        lock (HolderLock)
        {
            _logs = Array.FindAll(_logs, l => !ReferenceEquals(l, log));
            if (_logs.Length == 0 && Feeds[(int)_slot] == this)
            {
                Feeds[(int)_slot] = null;
                Dispose();
            }
        }
    }

    /// <summary>Stops the source, bounded. Called with the holder's lock held, by the last subscriber.</summary>
    public void Dispose()
    {
        _source?.Dispose();
        _source = null;
    }

    private sealed class Subscription(GcEventFeed feed, GcEventLog log) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                feed.Unsubscribe(log);
            }
        }
    }
}
