namespace StatsHandler;

/// <summary>
/// One event's header as a nettrace event block carries it, decoded; its payload comes beside it as a span. Valid only
/// during the <see cref="INetTraceSink.OnEvent"/> call that receives it.
/// </summary>
internal readonly struct NetTraceEvent
{
    public NetTraceEvent(
        NetTraceMetadata? metadata, int metadataId, int sequenceNumber, long threadId, long captureThreadId, int processorNumber,
        int stackId, long timestamp, bool isSorted, Guid activityId, Guid relatedActivityId)
    {
        Metadata = metadata;
        MetadataId = metadataId;
        SequenceNumber = sequenceNumber;
        ThreadId = threadId;
        CaptureThreadId = captureThreadId;
        ProcessorNumber = processorNumber;
        StackId = stackId;
        Timestamp = timestamp;
        IsSorted = isSorted;
        ActivityId = activityId;
        RelatedActivityId = relatedActivityId;
    }

    /// <summary>What kind of event this is (provider, id, name), or null when its metadata never came.</summary>
    public NetTraceMetadata? Metadata { get; }

    /// <summary>The metadata record's id.</summary>
    public int MetadataId { get; }

    /// <summary>The capture thread's counter: a gap means events were dropped.</summary>
    public int SequenceNumber { get; }

    /// <summary>The thread the event describes.</summary>
    public long ThreadId { get; }

    /// <summary>The thread that wrote it.</summary>
    public long CaptureThreadId { get; }

    /// <summary>The processor the capture thread ran on.</summary>
    public int ProcessorNumber { get; }

    /// <summary>The stack's id in the stack blocks, 0 for none.</summary>
    public int StackId { get; }

    /// <summary>When it happened, in the trace's ticks (<see cref="NetTraceInfo.TicksPerSecond"/>).</summary>
    public long Timestamp { get; }

    /// <summary>Every event after this one in the stream is at least as late as it: what came before may be sorted now.</summary>
    public bool IsSorted { get; }

    /// <summary>The activity it belongs to.</summary>
    public Guid ActivityId { get; }

    /// <summary>The activity that caused that one.</summary>
    public Guid RelatedActivityId { get; }
}

/// <summary>One kind of event, as a nettrace metadata block describes it.</summary>
/// <param name="Id">The id events refer to it by.</param>
/// <param name="Provider">The provider's name.</param>
/// <param name="EventId">The event's id within its provider.</param>
/// <param name="EventName">The event's name; empty for the runtime's own events, which the reader knows by id.</param>
/// <param name="Version">The event's version: newer ones append fields.</param>
/// <param name="Level">Its level, 0-5.</param>
/// <param name="Keywords">Its keywords.</param>
internal sealed record NetTraceMetadata(int Id, string Provider, int EventId, string EventName, int Version, int Level, long Keywords);

/// <summary>What a trace says about itself (its Trace object).</summary>
/// <param name="StartUtc">When it started.</param>
/// <param name="StartTicks">The tick count at that moment.</param>
/// <param name="TicksPerSecond">The frequency of event timestamps.</param>
/// <param name="PointerSize">4 or 8: the size of an address in the stacks.</param>
/// <param name="ProcessId">The traced process.</param>
/// <param name="ProcessorCount">Its processors.</param>
internal readonly record struct NetTraceInfo(DateTime StartUtc, long StartTicks, long TicksPerSecond, int PointerSize, int ProcessId, int ProcessorCount);

/// <summary>Receives what a <see cref="NetTraceReader"/> decodes, on the reading thread, in stream order.</summary>
internal interface INetTraceSink
{
    /// <summary>The trace's header, once, first.</summary>
    void OnTrace(in NetTraceInfo info)
    {
    }

    /// <summary>A new kind of event, before any event of that kind.</summary>
    void OnMetadata(NetTraceMetadata metadata)
    {
    }

    /// <summary>One event: its header and its payload, valid during this call only.</summary>
    void OnEvent(in NetTraceEvent header, ReadOnlySpan<byte> payload);

    /// <summary>One stack, as instruction pointers of <see cref="NetTraceInfo.PointerSize"/> bytes, valid during this call only.</summary>
    void OnStack(int id, ReadOnlySpan<byte> stack)
    {
    }

    /// <summary>A sequence point: every event before it in the stream is earlier than <paramref name="timestamp"/>, every one after it later.</summary>
    void OnSequencePoint(long timestamp)
    {
    }

    /// <summary>The reader has decoded everything that has arrived and is about to wait for more.</summary>
    void OnCaughtUp()
    {
    }
}
