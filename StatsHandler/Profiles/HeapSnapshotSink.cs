using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace StatsHandler;

/// <summary>
/// Reads a GC heap-snapshot session's events (the runtime's <c>GCHeapSnapshot</c> keywords) and sums the live objects by
/// type: <c>GCBulkNode</c> (every object the induced collection found alive: address, size, type id), <c>GCBulkType</c>
/// (type id to name, flags, element or generic argument ids), and the induced collection's <c>GCStart</c>/<c>GCEnd</c>
/// and the suspension around it for its pause. Memory grows with the number of types, never with objects: each object
/// adds to its type's two sums in place.
/// </summary>
/// <remarks>
/// Payload layouts: dotnet/runtime <c>src/coreclr/vm/ClrEtwAll.man</c> (templates <c>GCBulkNode</c>, <c>GCStart_V2</c>,
/// <c>GCEnd_V1</c>, <c>GCSuspendEE_V1</c>) and <c>eventtrace.cpp</c> <c>BulkTypeEventLogger::FireBulkTypeEvent</c>, which
/// writes each type as a packed 25-byte head (type id, module id, type name token, flags, element type), a
/// null-terminated UTF-16 name, a u32 parameter count and that many u64 type ids.
/// </remarks>
internal sealed class HeapSnapshotSink : INetTraceSink
{
    /// <summary>The runtime's event ids this sink reads; the session's event-id filter lets only these through.</summary>
    public static readonly int[] EventIds = [GcStart, GcEnd, GcRestartEEEnd, GcSuspendEEBegin, BulkType, BulkNode];

    private const int GcStart = 1;
    private const int GcEnd = 2;
    private const int GcRestartEEEnd = 3;
    private const int GcSuspendEEBegin = 9;
    private const int BulkType = 15;
    private const int BulkNode = 18;

    private const int BackgroundGc = 1;
    private const int NodeSize = 32;
    private const int TypeHeadSize = 25;
    private const uint ArrayFlag = 0x8;
    private const int ArrayRankShift = 8;
    private const uint ArrayRankMask = 0x3F00;

    private readonly Dictionary<ulong, Totals> _byType = [];
    private readonly Dictionary<ulong, TypeRecord> _types = [];
    private readonly Dictionary<long, int> _lastSequence = [];
    private long _sequenceGaps;
    private readonly TaskCompletionSource _complete = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _ticksPerSecond = 1;
    private long _suspendStart = -1;
    private long _pauseStart = -1;
    private long _gcStart = -1;
    private long _gcEnd = -1;
    private long _pauseEnd = -1;
    private long _inducedGc = -1;
    private long _nodeEvents;
    private long _nodeEventsSent;

    /// <summary>Set once the induced collection has ended and the runtime has let the threads run again.</summary>
    public Task Complete => _complete.Task;

    /// <summary>Whether the induced collection's end was seen.</summary>
    public bool SawCollectionEnd => _gcEnd >= 0;

    /// <summary>
    /// Events the runtime dropped: gaps in the capture threads' sequence numbers, or in the numbers the runtime gives its
    /// <c>GCBulkNode</c> events (0, 1, 2, ...); the sums then miss objects.
    /// </summary>
    public long DroppedEvents => Math.Max(_sequenceGaps, _nodeEventsSent - _nodeEvents);

    /// <summary>The induced collection's number (as <see cref="GCMemoryInfo.Index"/> counts), or -1 when it was not seen.</summary>
    public long InducedCollection => _inducedGc;

    /// <summary>
    /// How long the induced collection stopped the process, in milliseconds: from the suspension's start to the restart's
    /// end around it, or from its start to its end when those were not seen; -1 when the collection was not seen.
    /// </summary>
    public double PauseMilliseconds =>
        _pauseStart >= 0 && _pauseEnd >= 0 ? (_pauseEnd - _pauseStart) * 1000.0 / _ticksPerSecond
        : _gcStart >= 0 && _gcEnd >= 0 ? (_gcEnd - _gcStart) * 1000.0 / _ticksPerSecond
        : -1;

    /// <inheritdoc />
    public void OnTrace(in NetTraceInfo info) => _ticksPerSecond = info.TicksPerSecond;

    /// <inheritdoc />
    public void OnEvent(in NetTraceEvent header, ReadOnlySpan<byte> payload)
    {
        CountDropped(header);
        if (header.Metadata is not { Provider: EventPipeProvider.Runtime } metadata)
        {
            return;
        }

        switch (metadata.EventId)
        {
            case BulkNode:
                OnNodes(payload);
                break;
            case BulkType:
                OnTypes(payload);
                break;
            case GcSuspendEEBegin:
                _suspendStart = header.Timestamp;
                break;
            case GcStart when payload.Length >= 16:
                // The first full blocking collection of the session is the one the keyword induced (dotnet-gcdump picks it
                // the same way); a background collection walks no heap.
                if (_inducedGc < 0 && BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]) == 2
                    && BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]) != BackgroundGc)
                {
                    _inducedGc = BinaryPrimitives.ReadUInt32LittleEndian(payload);
                    _gcStart = header.Timestamp;
                    _pauseStart = _suspendStart;
                }

                break;
            case GcEnd when payload.Length >= 4:
                if (_inducedGc >= 0 && _gcEnd < 0 && BinaryPrimitives.ReadUInt32LittleEndian(payload) == _inducedGc)
                {
                    _gcEnd = header.Timestamp;
                }

                break;
            case GcRestartEEEnd:
                if (_gcEnd >= 0 && _pauseEnd < 0)
                {
                    _pauseEnd = header.Timestamp;
                    _complete.TrySetResult();
                }

                break;
            default:
                break;
        }
    }

    /// <summary>The live objects summed by type name, largest first (then by count, then by name).</summary>
    public List<HeapType> Types()
    {
        var byName = new Dictionary<string, (long Count, long Bytes, string RuntimeName)>(_byType.Count, StringComparer.Ordinal);
        var names = new Dictionary<ulong, string>(_types.Count);
        foreach ((ulong id, Totals totals) in _byType)
        {
            ref (long Count, long Bytes, string RuntimeName) sum = ref CollectionsMarshal.GetValueRefOrAddDefault(byName, Name(id, names, 0), out bool exists);
            sum.Count += totals.Count;
            sum.Bytes += totals.Bytes;
            if (!exists)
            {
                sum.RuntimeName = _types.TryGetValue(id, out TypeRecord? type) && type.Name.Length > 0 ? type.Name : names[id];
            }
        }

        var types = new List<HeapType>(byName.Count);
        foreach ((string name, (long count, long bytes, string runtimeName)) in byName)
        {
            types.Add(new HeapType(name, count, bytes, runtimeName));
        }

        types.Sort(static (a, b) =>
            a.Bytes != b.Bytes ? b.Bytes.CompareTo(a.Bytes)
            : a.Count != b.Count ? b.Count.CompareTo(a.Count)
            : string.CompareOrdinal(a.Name, b.Name));
        return types;
    }

    private void CountDropped(in NetTraceEvent header)
    {
        ref int last = ref CollectionsMarshal.GetValueRefOrAddDefault(_lastSequence, header.CaptureThreadId, out bool seen);
        if (seen && header.SequenceNumber - last > 1)
        {
            _sequenceGaps += header.SequenceNumber - last - 1;
        }

        last = header.SequenceNumber;
    }

    private void OnNodes(ReadOnlySpan<byte> payload)
    {
        // Index u32, Count u32, ClrInstanceID u16, then Count x (Address, Size, TypeID, EdgeCount), each u64.
        if (payload.Length < 10)
        {
            return;
        }

        _nodeEvents++;
        _nodeEventsSent = Math.Max(_nodeEventsSent, BinaryPrimitives.ReadUInt32LittleEndian(payload) + 1L);
        int count = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]), (uint)((payload.Length - 10) / NodeSize));
        ReadOnlySpan<byte> nodes = payload.Slice(10, count * NodeSize);
        ulong lastType = 0;
        long lastCount = 0;
        long lastBytes = 0;
        for (int i = 0; i < nodes.Length; i += NodeSize)
        {
            long size = BinaryPrimitives.ReadInt64LittleEndian(nodes[(i + 8)..]);
            ulong type = BinaryPrimitives.ReadUInt64LittleEndian(nodes[(i + 16)..]);
            if (type != lastType)
            {
                Add(lastType, lastCount, lastBytes);
                lastType = type;
                lastCount = lastBytes = 0;
            }

            lastCount++;
            lastBytes += size;
        }

        Add(lastType, lastCount, lastBytes);
    }

    private void Add(ulong type, long count, long bytes)
    {
        if (count == 0)
        {
            return;
        }

        ref Totals totals = ref CollectionsMarshal.GetValueRefOrAddDefault(_byType, type, out _);
        totals.Count += count;
        totals.Bytes += bytes;
    }

    private void OnTypes(ReadOnlySpan<byte> payload)
    {
        // Count u32, ClrInstanceID u16, then Count variable-sized records.
        if (payload.Length < 6)
        {
            return;
        }

        uint count = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        int pos = 6;
        for (uint i = 0; i < count && payload.Length - pos >= TypeHeadSize; i++)
        {
            ulong id = BinaryPrimitives.ReadUInt64LittleEndian(payload[pos..]);
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[(pos + 20)..]);
            pos += TypeHeadSize;
            int end = pos;
            while (end + 1 < payload.Length && (payload[end] | payload[end + 1]) != 0)
            {
                end += 2;
            }

            if (end + 1 >= payload.Length)
            {
                return;
            }

            string name = Encoding.Unicode.GetString(payload[pos..end]);
            pos = end + 2;
            if (payload.Length - pos < 4)
            {
                return;
            }

            int parameterCount = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(payload[pos..]), (uint)((payload.Length - pos - 4) / 8));
            pos += 4;
            ulong[] parameters = parameterCount == 0 ? [] : new ulong[parameterCount];
            for (int p = 0; p < parameterCount; p++, pos += 8)
            {
                parameters[p] = BinaryPrimitives.ReadUInt64LittleEndian(payload[pos..]);
            }

            _types[id] = new TypeRecord(name, flags, parameters);
        }
    }

    /// <summary>
    /// A type's display name: the runtime's, with generic arguments in angle brackets. An array the runtime sent no name
    /// for is named after its element (looked up recursively, to a bounded depth) with <c>[]</c> (or <c>[,]</c> for its
    /// rank) appended.
    /// </summary>
    private string Name(ulong id, Dictionary<ulong, string> names, int depth)
    {
        if (names.TryGetValue(id, out string? known))
        {
            return known;
        }

        string name;
        if (!_types.TryGetValue(id, out TypeRecord? type))
        {
            name = $"(unnamed type 0x{id:x})";
        }
        else if ((type.Flags & ArrayFlag) != 0 && type.Parameters.Length == 1 && type.Name.Length == 0 && depth < 8)
        {
            int rank = (int)((type.Flags & ArrayRankMask) >> ArrayRankShift);
            name = Name(type.Parameters[0], names, depth + 1) + (rank <= 1 ? "[]" : "[" + new string(',', rank - 1) + "]");
        }
        else
        {
            name = type.Name.Length > 0 ? CSharpGenerics(type.Name) : $"(unnamed type 0x{id:x})";
        }

        names[id] = name;
        return name;
    }

    /// <summary>
    /// The runtime's name with its generic arguments written as C# and dotnet-gcdump write them:
    /// <c>System.Collections.Generic.Dictionary`2[System.String,Customer]</c> becomes
    /// <c>System.Collections.Generic.Dictionary&lt;System.String,Customer&gt;</c>. An array's brackets (<c>[]</c>,
    /// <c>[,]</c>: nothing but commas inside) stay as they are.
    /// </summary>
    internal static string CSharpGenerics(string name)
    {
        if (name.IndexOf('[') < 0)
        {
            return name;
        }

        var text = new StringBuilder(name.Length);
        Span<bool> generic = stackalloc bool[64];
        int depth = 0;
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (c == '`' && i + 1 < name.Length && char.IsAsciiDigit(name[i + 1]))
            {
                while (i + 1 < name.Length && char.IsAsciiDigit(name[i + 1]))
                {
                    i++;
                }

                continue;
            }

            if (c == '[')
            {
                int next = i + 1;
                while (next < name.Length && name[next] == ',')
                {
                    next++;
                }

                bool isGeneric = next < name.Length && name[next] != ']';
                if (depth < generic.Length)
                {
                    generic[depth] = isGeneric;
                }

                depth++;
                text.Append(isGeneric ? '<' : '[');
            }
            else if (c == ']' && depth > 0)
            {
                depth--;
                text.Append(depth < generic.Length && generic[depth] ? '>' : ']');
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }

    private struct Totals
    {
        public long Count;
        public long Bytes;
    }

    private sealed record TypeRecord(string Name, uint Flags, ulong[] Parameters);
}

/// <summary>The live objects of one type: how many and their bytes.</summary>
/// <param name="Name">The type's name, generic arguments in angle brackets: <c>System.Collections.Generic.List&lt;System.String&gt;</c>.</param>
/// <param name="Count">Live objects of the type.</param>
/// <param name="Bytes">Their size in bytes, each object's own (shallow) size.</param>
/// <param name="RuntimeName">The name as the runtime wrote it: <c>System.Collections.Generic.List`1[System.String]</c>.</param>
internal readonly record struct HeapType(string Name, long Count, long Bytes, string RuntimeName);
