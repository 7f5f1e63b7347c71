using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace StatsHandler;

/// <summary>
/// The live objects of this process summed by type (count and bytes, largest first), from a GC heap-snapshot session on
/// the process's own diagnostic port: the session's keywords make the runtime induce a full blocking collection and walk
/// the heap it leaves, reporting every live object's size and type, as dotnet-gcdump asks it to. Written as text, as
/// JSON, and as a pprof profile (<c>inuse_objects</c>, <c>inuse_space</c>) that <c>go tool pprof</c> reads.
/// </summary>
/// <remarks>
/// <para>The runtime walks the heap while every managed thread is stopped, this session's reader too, so the whole
/// snapshot is held in the session's buffer (up to <see cref="BufferMegabytes"/>) until the process runs again; a heap
/// whose snapshot does not fit loses events, and the profile says so (<see cref="Incomplete"/>).</para>
/// <para>Sizes are each object's own (shallow) size, as the collector reports it; what an object keeps alive through
/// its references is not added to it.</para>
/// </remarks>
internal sealed class HeapProfile
{
    /// <summary>The session's buffer: the snapshot's events wait in it while the collection stops the reader (dotnet-gcdump asks for the same).</summary>
    public const int BufferMegabytes = 1024;

    /// <summary>
    /// The runtime keywords dotnet-gcdump enables (TraceEvent's <c>GCHeapSnapshot</c>): GC (0x1), Type (0x80000),
    /// GCHeapDump (0x100000), GCHeapCollect (0x800000, which induces the collection) and GCHeapAndTypeNames (0x1000000).
    /// </summary>
    public const ulong HeapSnapshotKeywords = 0x1 | 0x80000 | 0x100000 | 0x800000 | 0x1000000;

    /// <summary>How long a collection may take from the session's start to the end of the induced collection.</summary>
    public static readonly TimeSpan CollectionBound = TimeSpan.FromSeconds(60);

    private const int Verbose = 5;
    private const int Critical = 1;

    /// <summary>
    /// The share of the bytes the induced collection kept alive (<see cref="GCMemoryInfo.PromotedBytes"/>) below which the
    /// snapshot is taken for incomplete: the walk also counts the frozen heap's objects, so a whole snapshot holds a
    /// little more than that, never much less.
    /// </summary>
    private const double CompleteShare = 0.9;

    private readonly List<HeapType> _types;

    private HeapProfile(List<HeapType> types, double pauseMilliseconds, long droppedEvents, DateTime takenUtc, TimeSpan duration)
    {
        _types = types;
        GcPauseMilliseconds = pauseMilliseconds;
        DroppedEvents = droppedEvents;
        TakenUtc = takenUtc;
        Duration = duration;
        foreach (HeapType type in types)
        {
            Objects += type.Count;
            Bytes += type.Bytes;
        }
    }

    /// <summary>The types, largest first.</summary>
    public IReadOnlyList<HeapType> Types => _types;

    /// <summary>Live objects in all.</summary>
    public long Objects { get; }

    /// <summary>Their bytes in all.</summary>
    public long Bytes { get; }

    /// <summary>How long the induced collection (and the heap walk within it) stopped the process, in milliseconds.</summary>
    public double GcPauseMilliseconds { get; }

    /// <summary>Whether the sums cover the whole heap: the induced collection's end was seen and no event was lost.</summary>
    public bool Complete => Incomplete is null;

    /// <summary>Why the sums may miss objects, or null when they do not.</summary>
    public string? Incomplete { get; private init; }

    /// <summary>Events the runtime dropped because the session's buffer was full.</summary>
    public long DroppedEvents { get; }

    /// <summary>When the collection started (UTC).</summary>
    public DateTime TakenUtc { get; }

    /// <summary>How long the collection took, the session's start to its end.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Takes a heap profile of this process: induces a full blocking collection and sums what it found alive.</summary>
    /// <remarks>
    /// The collection itself cannot be interrupted; <paramref name="cancel"/> is honoured before it starts and while the
    /// session runs on, and ends the session within <see cref="EventPipeSession.DrainBound"/>.
    /// </remarks>
    /// <exception cref="IOException">
    /// The diagnostic port is missing or refused the session, or the snapshot's stream broke off; the message says which.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancel"/> was cancelled.</exception>
    public static HeapProfile Collect(CancellationToken cancel) => Collect(started: null, BufferMegabytes, cancel);

    /// <summary>
    /// As <see cref="Collect(CancellationToken)"/>, with the session's buffer given, calling <paramref name="started"/>
    /// once the session runs (for tests).
    /// </summary>
    internal static HeapProfile Collect(Action? started, int bufferMegabytes, CancellationToken cancel)
    {
        cancel.ThrowIfCancellationRequested();
        if (DiagnosticPort.Unavailable() is { } unavailable)
        {
            throw new IOException($"Cannot take a heap profile: {unavailable}.");
        }

        DateTime taken = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        TimeSpan pausedBefore = GC.GetTotalPauseDuration();
        var sink = new HeapSnapshotSink();

        var options = new EventPipeSessionOptions(
            [new EventPipeProvider(EventPipeProvider.Runtime, HeapSnapshotKeywords, Verbose, EventIds: HeapSnapshotSink.EventIds)],
            RundownKeyword: 0,
            StackWalk: false,
            bufferMegabytes);
        int fullCollections = GC.CollectionCount(GC.MaxGeneration);
        ForgetLoggedTypes();

        // The runtime induces the collection in the keyword's callback, while it starts the session, and answers the start
        // after it: then every event of the snapshot is in the session's buffer (or was dropped) and the session can stop
        // at once. Only if the collection is still to come does the reader wait for its end.
        using EventPipeSession session = EventPipeSession.Start(options, CollectionBound);
        bool collected = GC.CollectionCount(GC.MaxGeneration) > fullCollections;
        TimeSpan pausedDuring = GC.GetTotalPauseDuration() - pausedBefore;
        Task reading = session.ReadInBackground(sink);
        bool cancelled = false;
        try
        {
            started?.Invoke();
            if (!collected)
            {
                Task.WaitAny([sink.Complete, reading], (int)CollectionBound.TotalMilliseconds, cancel);
            }

            cancel.ThrowIfCancellationRequested();
        }
        catch (OperationCanceledException)
        {
            cancelled = true;
        }
        finally
        {
            // Stopped here, never on the reader, which drains the session's last buffers while the runtime ends it.
            session.StopAndDrain(reading);
            ForgetLoggedTypes();
        }

        if (cancelled)
        {
            throw new OperationCanceledException("The heap profile was cancelled.", cancel);
        }

        if (!reading.IsCompleted)
        {
            throw new IOException($"The heap snapshot's stream did not end within {EventPipeSession.DrainBound.TotalSeconds:0} s of its close.");
        }

        if (reading.Exception?.InnerException is InvalidDataException invalid)
        {
            throw new IOException($"The runtime's heap snapshot could not be read: {invalid.Message}", invalid);
        }

        double pause = sink.PauseMilliseconds >= 0 ? sink.PauseMilliseconds : pausedDuring.TotalMilliseconds;
        List<HeapType> types = sink.Types();
        return new HeapProfile(types, pause, sink.DroppedEvents, taken, clock.Elapsed)
        {
            Incomplete = WhyIncomplete(sink, types.Sum(t => t.Bytes), bufferMegabytes),
        };
    }

    /// <summary>
    /// Writes a header line (objects, bytes, types, the collection's pause), then one line per type, largest first:
    /// count, bytes, name.
    /// </summary>
    public void WriteText(TextWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.Write(string.Create(CultureInfo.InvariantCulture, $"heap: {Objects} objects, {Bytes} bytes, {_types.Count} types; gc_pause_ms {GcPauseMilliseconds:0.###} (induced full blocking collection)"));
        w.Write(Complete ? "\n" : $"; INCOMPLETE: {Incomplete}\n");
        w.Write("       count           bytes  type\n");
        foreach (HeapType type in _types)
        {
            w.Write(string.Create(CultureInfo.InvariantCulture, $"{type.Count,12} {type.Bytes,15}  {type.Name}\n"));
        }
    }

    /// <summary>
    /// Writes <c>{"gc_pause_ms":..,"objects":N,"bytes":N,"complete":true,"types":[{"name":..,"count":..,"bytes":..}, ...]}</c>,
    /// types largest first.
    /// </summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject();
        w.WriteNumber("gc_pause_ms", Math.Round(GcPauseMilliseconds, 3));
        w.WriteNumber("objects", Objects);
        w.WriteNumber("bytes", Bytes);
        w.WriteBoolean("complete", Complete);
        w.WriteStartArray("types");
        foreach (HeapType type in _types)
        {
            w.WriteStartObject();
            w.WriteString("name", type.Name);
            w.WriteNumber("count", type.Count);
            w.WriteNumber("bytes", type.Bytes);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>
    /// The profile in pprof form, gzipped: sample types <c>inuse_objects</c>/<c>count</c> and <c>inuse_space</c>/<c>bytes</c>,
    /// one sample per type whose only frame is the type's name, so <c>go tool pprof -top</c> lists the types.
    /// </summary>
    public byte[] ToPprof()
    {
        var profile = new PprofProfile(("inuse_objects", "count"), ("inuse_space", "bytes"))
        {
            TimeNanos = (TakenUtc - DateTime.UnixEpoch).Ticks * 100,
            DurationNanos = Duration.Ticks * 100,
        };
        profile.AddComment(string.Create(CultureInfo.InvariantCulture, $"live objects by type after an induced full blocking collection that paused the process {GcPauseMilliseconds:0.###} ms"));
        if (!Complete)
        {
            profile.AddComment($"incomplete: {Incomplete}");
        }

        foreach (HeapType type in _types)
        {
            // The runtime's own name as the system name: pprof takes a function whose system name equals its name and
            // holds brackets for C++ and strips its "template arguments" (Dictionary<String,Int32> would show as
            // Dictionary), but keeps a name that differs from its system name as it is.
            profile.AddSample([profile.Location(profile.Function(type.Name, type.RuntimeName))], type.Count, type.Bytes);
        }

        return profile.ToGzip();
    }

    /// <summary>
    /// Why a snapshot may miss objects: the runtime dropped events, the collection's end never came, or the sums fall well
    /// short of what the collection itself says it kept alive; null when none of these.
    /// </summary>
    private static string? WhyIncomplete(HeapSnapshotSink sink, long bytes, int bufferMegabytes)
    {
        GCMemoryInfo collection = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        return sink.DroppedEvents > 0
            ? string.Create(CultureInfo.InvariantCulture, $"the runtime dropped {sink.DroppedEvents} events (the session's buffer of {bufferMegabytes} MB was full)")
            : !sink.SawCollectionEnd
            ? string.Create(CultureInfo.InvariantCulture, $"the induced collection's end was not seen within {CollectionBound.TotalSeconds:0} s")
            : collection.Index == sink.InducedCollection && bytes < collection.PromotedBytes * CompleteShare
            ? string.Create(CultureInfo.InvariantCulture, $"the snapshot holds {bytes} bytes where the collection kept {collection.PromotedBytes} alive (events were lost)")
            : null;
    }

    /// <summary>
    /// Makes the runtime forget which types it has named already, so the next snapshot (ours, or dotnet-gcdump's from
    /// outside) names every type again: a session that opens and closes at once, writing nothing.
    /// </summary>
    /// <remarks>
    /// The runtime names each type once (<c>GCBulkType</c>) and remembers it until a change of the runtime provider's
    /// keywords finds the Type keyword off. While another session keeps the provider on (the GC events' session, a
    /// dotnet-trace), the end of a snapshot is no such change: the next snapshot would then get only type ids. Opening a
    /// session is one: it costs a few milliseconds and no events (level Critical, and an empty event list where the
    /// runtime takes one). Best effort: a failure here leaves the names to chance, not the snapshot.
    /// </remarks>
    private static void ForgetLoggedTypes()
    {
        var options = new EventPipeSessionOptions(
            [new EventPipeProvider(EventPipeProvider.Runtime, 0x1, Critical, EventIds: [])], RundownKeyword: 0, StackWalk: false, BufferMegabytes: 1);
        try
        {
            using EventPipeSession session = EventPipeSession.Start(options, CollectionBound);
            session.StopAndDrain(session.ReadInBackground(new HeapSnapshotSink()));
        }
        catch (IOException)
        {
        }
    }
}
