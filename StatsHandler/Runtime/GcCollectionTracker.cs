namespace StatsHandler;

/// <summary>
/// Turns the runtime's GC events, in time order, into one <see cref="GcCollection"/> per collection: the same pairing
/// whichever source delivers the events (the diagnostic port or an in-process listener).
/// </summary>
/// <remarks>
/// A blocking collection's pause is its suspension: <c>GCSuspendEEBegin</c> to <c>GCRestartEEEnd</c>, which holds its
/// <c>GCStart</c> and <c>GCEnd</c>. A background gen2 collection suspends briefly at its start and again to finish
/// marking, and ends while the process runs: its pause is the sum of the suspensions between its start and its end that
/// hold no collection of their own (foreground gen0/gen1 collections during it are listed apart). Not thread-safe: one
/// source calls it from one thread.
/// </remarks>
internal sealed class GcCollectionTracker(GcEventFeed feed, double ticksPerSecond)
{
    /// <summary>The runtime's event ids this needs, all of the GC keyword at Informational.</summary>
    public const int GCStart = 1;

    /// <summary><c>GCEnd</c>: payload Count, Depth.</summary>
    public const int GCEnd = 2;

    /// <summary><c>GCRestartEEEnd</c>: the suspension's end.</summary>
    public const int GCRestartEEEnd = 3;

    /// <summary><c>GCSuspendEEBegin</c>: payload Reason, Count.</summary>
    public const int GCSuspendEEBegin = 9;

    private const int SuspendForGC = 1;
    private const int SuspendForGCPrep = 6;

    private long _suspendedAt;
    private bool _suspended;
    private Pending _blocking;
    private Pending _background;

    /// <summary>A suspension began; only those for a collection count.</summary>
    public void SuspendBegin(long timestamp, long reason)
    {
        if (reason is SuspendForGC or SuspendForGCPrep)
        {
            _suspendedAt = timestamp;
            _suspended = true;
        }
    }

    /// <summary>A collection started (<c>GCStart</c>: Count, Depth, Reason, Type; Type 1 is background).</summary>
    public void Start(long index, int generation, int reason, bool background)
    {
        var started = new Pending(true, index, generation, reason, background, 0, false);
        if (background)
        {
            _background = started;
        }
        else
        {
            _blocking = started;
        }
    }

    /// <summary>A collection ended (<c>GCEnd</c>); a background one is published once its last suspension has ended.</summary>
    public void End(long index)
    {
        if (_background.Active && _background.Index == index)
        {
            _background = _background with { Ended = true };
            if (!_suspended)
            {
                Publish(_background);
                _background = default;
            }
        }
    }

    /// <summary>The suspension ended: its length is the pause of the collection it held, or a background one's share.</summary>
    public void RestartEnd(long timestamp)
    {
        if (!_suspended)
        {
            return;
        }

        long pause = Math.Max(0, timestamp - _suspendedAt);
        _suspended = false;
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
    }

    private void Publish(in Pending collection) =>
        feed.Publish(new GcCollection(collection.Index, collection.Generation, collection.Reason, collection.Background, collection.PauseTicks / ticksPerSecond));

    private readonly record struct Pending(bool Active, long Index, int Generation, int Reason, bool Background, long PauseTicks, bool Ended);
}
