namespace StatsHandler.Tests.Support;

/// <summary>A nettrace sink that counts what it is given: events by provider and id, stacks, sequence points.</summary>
internal sealed class CountingSink : INetTraceSink
{
    public Dictionary<(string Provider, int EventId), int> ByEvent { get; } = [];

    public List<NetTraceMetadata> Metadata { get; } = [];

    public NetTraceInfo Info { get; private set; }

    public int Events { get; private set; }

    public int Stacks { get; private set; }

    public int SequencePoints { get; private set; }

    public int Sorted { get; private set; }

    public void OnTrace(in NetTraceInfo info) => Info = info;

    public void OnMetadata(NetTraceMetadata metadata) => Metadata.Add(metadata);

    public void OnEvent(in NetTraceEvent header, ReadOnlySpan<byte> payload)
    {
        Events++;
        Sorted += header.IsSorted ? 1 : 0;
        var key = (header.Metadata?.Provider ?? "?", header.Metadata?.EventId ?? -1);
        ByEvent[key] = ByEvent.GetValueOrDefault(key) + 1;
    }

    public void OnStack(int id, ReadOnlySpan<byte> stack) => Stacks++;

    public void OnSequencePoint(long timestamp) => SequencePoints++;

    public int Count(string provider, int eventId) => ByEvent.GetValueOrDefault((provider, eventId));

    /// <summary>Reads a whole trace.</summary>
    public static CountingSink Read(Stream trace)
    {
        var sink = new CountingSink();
        new NetTraceReader(trace, sink).ReadToEnd();
        return sink;
    }
}
