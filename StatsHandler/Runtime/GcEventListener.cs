using System.Diagnostics.Tracing;

namespace StatsHandler;

/// <summary>
/// The fallback source of GC events: an in-process <see cref="EventListener"/> on the runtime's event source
/// (<c>Microsoft-Windows-DotNETRuntime</c>, GC keyword, Informational), for processes without a diagnostic port. It
/// hands the four events a collection needs to a <see cref="GcCollectionTracker"/>.
/// </summary>
/// <remarks>
/// The runtime delivers the events on one thread of its own, in time order, decoded into boxed payloads; the tracker is
/// touched under a lock anyway because nothing documents that it stays one thread.
/// </remarks>
internal sealed class GcEventListener(GcEventFeed feed) : EventListener
{
    private const string RuntimeSourceName = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const int BackgroundGC = 1;

    // Field initializers run before the base constructor, which may already deliver events.
    private readonly Lock _lock = new();
    private readonly GcCollectionTracker _tracker = new(feed, TimeSpan.TicksPerSecond);

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        // Called from the base constructor for sources that already exist.
        if (eventSource.Name == RuntimeSourceName)
        {
            EnableEvents(eventSource, EventLevel.Informational, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventId is not (GcCollectionTracker.GCStart or GcCollectionTracker.GCEnd or GcCollectionTracker.GCRestartEEEnd or GcCollectionTracker.GCSuspendEEBegin)
            || eventData.EventSource?.Name != RuntimeSourceName
            || eventData.Payload is not { } payload)
        {
            return;
        }

        long now = eventData.TimeStamp.Ticks;
        lock (_lock)
        {
            switch (eventData.EventId)
            {
                case GcCollectionTracker.GCSuspendEEBegin:
                    _tracker.SuspendBegin(now, Number(payload, 0));
                    break;
                case GcCollectionTracker.GCStart:
                    _tracker.Start(Number(payload, 0), (int)Number(payload, 1), (int)Number(payload, 2), Number(payload, 3) == BackgroundGC);
                    break;
                case GcCollectionTracker.GCEnd:
                    _tracker.End(Number(payload, 0));
                    break;
                default:
                    _tracker.RestartEnd(now);
                    break;
            }
        }
    }

    private static long Number(System.Collections.ObjectModel.ReadOnlyCollection<object?> payload, int index) =>
        index < payload.Count && payload[index] is IConvertible value ? value.ToInt64(null) : -1;
}
