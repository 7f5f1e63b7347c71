using System.Buffers.Binary;

namespace StatsHandler;

/// <summary>
/// GC events through the process's own diagnostic port: a session with the runtime provider's GC keyword at
/// Informational, only the four events a collection's pause needs (an event-id filter where the runtime takes one), no
/// stack walk, no rundown; a thread of its own reads the stream, blocking between the runtime's flushes, and feeds a
/// <see cref="GcCollectionTracker"/>.
/// </summary>
/// <remarks>
/// The runtime writes each thread's events in runs, not in one time order; the runs of one flush (every 100 ms) all
/// precede the next flush's. So events wait here, sorted, until the stream says no earlier one can follow: an event
/// marked sorted, a sequence point, or the reader having read everything that arrived.
/// </remarks>
internal sealed class GcEventPortSource : INetTraceSink, IDisposable
{
    private const int BackgroundGC = 1;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    /// <summary>The session: four events of the GC keyword, nothing else.</summary>
    internal static readonly EventPipeSessionOptions Options = new(
        [new EventPipeProvider(EventPipeProvider.Runtime, 0x1, 4, EventIds: [
            GcCollectionTracker.GCStart, GcCollectionTracker.GCEnd, GcCollectionTracker.GCRestartEEEnd, GcCollectionTracker.GCSuspendEEBegin])],
        RundownKeyword: 0,
        StackWalk: false,
        BufferMegabytes: 4);

    private readonly GcEventFeed _feed;
    private readonly EventPipeSession _session;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _ended = new();
    private readonly Dictionary<int, int> _eventIds = [];
    private Entry[] _pending = new Entry[64];
    private int _count;
    private GcCollectionTracker? _tracker;
    private volatile bool _stopping;

    private GcEventPortSource(GcEventFeed feed, EventPipeSession session)
    {
        _feed = feed;
        _session = session;
        _thread = new Thread(Read) { IsBackground = true, Name = "StatsHandler GC events" };
    }

    /// <summary>Which <c>CollectTracing</c> version the runtime accepted.</summary>
    public int CommandVersion => _session.CommandVersion;

    /// <summary>Starts the session and its reading thread.</summary>
    /// <exception cref="IOException">The port is missing or refused the session.</exception>
    public static GcEventPortSource Start(GcEventFeed feed)
    {
        var source = new GcEventPortSource(feed, EventPipeSession.Start(Options, Bound));
        source._thread.Start();
        return source;
    }

    /// <summary>
    /// Stops the session (from the caller's thread, never the reader's: the reader goes on draining while the runtime
    /// writes its last events) and waits, bounded, for the reader to end; closes the stream if the runtime did not.
    /// </summary>
    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _session.Stop();
        _ended.Wait(Bound);
        _session.Dispose();
        _ended.Wait(Bound);
    }

    void INetTraceSink.OnTrace(in NetTraceInfo info) => _tracker = new GcCollectionTracker(_feed, info.TicksPerSecond);

    void INetTraceSink.OnMetadata(NetTraceMetadata metadata)
    {
        if (metadata.Provider == EventPipeProvider.Runtime && metadata.EventId is GcCollectionTracker.GCStart or GcCollectionTracker.GCEnd
            or GcCollectionTracker.GCRestartEEEnd or GcCollectionTracker.GCSuspendEEBegin)
        {
            _eventIds[metadata.Id] = metadata.EventId;
        }
    }

    void INetTraceSink.OnEvent(in NetTraceEvent header, ReadOnlySpan<byte> payload)
    {
        if (!_eventIds.TryGetValue(header.MetadataId, out int eventId))
        {
            return;
        }

        if (header.IsSorted)
        {
            Flush(header.Timestamp);
        }

        var entry = new Entry(header.Timestamp, eventId, Field(payload, 0), Field(payload, 4), Field(payload, 8), Field(payload, 12));
        if (_count == _pending.Length)
        {
            Array.Resize(ref _pending, _pending.Length * 2);
        }

        _pending[_count++] = entry;
    }

    void INetTraceSink.OnSequencePoint(long timestamp) => Flush(long.MaxValue);

    void INetTraceSink.OnCaughtUp() => Flush(long.MaxValue);

    private static long Field(ReadOnlySpan<byte> payload, int offset) =>
        payload.Length >= offset + 4 ? BinaryPrimitives.ReadUInt32LittleEndian(payload[offset..]) : -1;

    private void Read()
    {
        string? failure = null;
        try
        {
            new NetTraceReader(_session.Stream, this).ReadToEnd();
            Flush(long.MaxValue);
            failure = _stopping ? null : "the runtime closed the stream";
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ObjectDisposedException)
        {
            failure = _stopping ? null : e.Message;
        }
        finally
        {
            _ended.Set();
        }

        if (failure is not null)
        {
            // Not here: the feed disposes this source, which waits for this thread to end.
            ThreadPool.QueueUserWorkItem(_ => _feed.SourceFailed(this, failure));
        }
    }

    /// <summary>Hands the waiting events up to <paramref name="until"/> to the tracker, in time order.</summary>
    private void Flush(long until)
    {
        if (_count == 0 || _tracker is not { } tracker)
        {
            return;
        }

        // Insertion sort: a handful of events, nearly in order already.
        for (int i = 1; i < _count; i++)
        {
            Entry e = _pending[i];
            int j = i - 1;
            while (j >= 0 && _pending[j].Timestamp > e.Timestamp)
            {
                _pending[j + 1] = _pending[j];
                j--;
            }

            _pending[j + 1] = e;
        }

        int done = 0;
        while (done < _count && _pending[done].Timestamp <= until)
        {
            Entry e = _pending[done++];
            switch (e.EventId)
            {
                case GcCollectionTracker.GCSuspendEEBegin:
                    tracker.SuspendBegin(e.Timestamp, e.A);
                    break;
                case GcCollectionTracker.GCStart:
                    tracker.Start(e.A, (int)e.B, (int)e.C, e.D == BackgroundGC);
                    break;
                case GcCollectionTracker.GCEnd:
                    tracker.End(e.A);
                    break;
                default:
                    tracker.RestartEnd(e.Timestamp);
                    break;
            }
        }

        Array.Copy(_pending, done, _pending, 0, _count - done);
        _count -= done;
    }

    private readonly record struct Entry(long Timestamp, int EventId, long A, long B, long C, long D);
}
