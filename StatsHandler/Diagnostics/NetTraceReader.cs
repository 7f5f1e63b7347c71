using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace StatsHandler;

/// <summary>
/// Reads a nettrace stream (format version 4/5, as EventPipe writes it): the <c>Nettrace</c> magic, the
/// <c>!FastSerialization.1</c> framing, the Trace object, then metadata, event, stack and sequence-point blocks, handing
/// each record to an <see cref="INetTraceSink"/>. Allocation-free per event: headers are decoded into a struct and
/// payloads handed out as spans of one reused buffer; only new metadata records allocate.
/// </summary>
/// <remarks>
/// The format: microsoft/perfview <c>src/TraceEvent/EventPipe/NetTraceFormat_v5.md</c>. Blocks are read whole (at most
/// <see cref="MaxBlockBytes"/>); a stream that breaks any rule of the format ends in an
/// <see cref="InvalidDataException"/> naming the rule, never in a wrong event.
/// </remarks>
internal sealed class NetTraceReader
{
    /// <summary>The largest block read; the runtime writes blocks of about 100 KB.</summary>
    public const int MaxBlockBytes = 64 << 20;

    private const byte NullReference = 1;
    private const byte BeginPrivateObject = 5;
    private const byte EndObject = 6;
    private const int CompressedHeaders = 1;

    private static readonly byte[] Magic = "Nettrace"u8.ToArray();
    private static readonly byte[] Serialization = "!FastSerialization.1"u8.ToArray();

    private readonly Stream _stream;
    private readonly INetTraceSink _sink;
    private readonly Dictionary<int, NetTraceMetadata> _metadata = [];
    private readonly bool _mayWait;
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private long _offset; // the stream offset of _buffer[_start]
    private bool _started;
    private bool _ended;

    // The previous event's header within the current block: compressed headers are deltas from it.
    private int _metadataId;
    private int _sequence;
    private long _captureThread;
    private int _processor;
    private long _thread;
    private int _stack;
    private long _timestamp;
    private Guid _activity;
    private Guid _related;
    private int _payloadSize;

    /// <summary>Reads <paramref name="stream"/> into <paramref name="sink"/>.</summary>
    public NetTraceReader(Stream stream, INetTraceSink sink)
    {
        _stream = stream;
        _sink = sink;
        _mayWait = stream is not (FileStream or MemoryStream or BufferedStream);
    }

    /// <summary>What the Trace object said; default until it has been read.</summary>
    public NetTraceInfo Info { get; private set; }

    /// <summary>Events read so far.</summary>
    public long Events { get; private set; }

    /// <summary>Bytes of the stream consumed so far.</summary>
    public long Position => _offset;

    /// <summary>Reads every object until the stream's end marker or its end.</summary>
    /// <exception cref="InvalidDataException">The stream breaks the format; the message says where and how.</exception>
    public void ReadToEnd()
    {
        while (ReadObject())
        {
        }
    }

    /// <summary>Reads the header if not yet read, then one object.</summary>
    /// <returns>False at the end of the trace (its end marker, or the stream's end between objects).</returns>
    /// <exception cref="InvalidDataException">The stream breaks the format.</exception>
    public bool ReadObject()
    {
        if (_ended)
        {
            return false;
        }

        if (!_started)
        {
            ReadStreamHeader();
            _started = true;
        }

        if (!Ensure(1))
        {
            _ended = true;
            return false;
        }

        byte tag = Take(1)[0];
        if (tag == NullReference)
        {
            _ended = true;
            return false;
        }

        Expect(tag, BeginPrivateObject, "an object's start");
        Require(2 + 4 + 4 + 4, "a type");
        ReadOnlySpan<byte> type = Take(2 + 4 + 4 + 4);
        Expect(type[0], BeginPrivateObject, "a type's start");
        Expect(type[1], NullReference, "a type's type");
        int nameLength = BinaryPrimitives.ReadInt32LittleEndian(type[10..]);
        if (nameLength is < 1 or > 64)
        {
            throw Invalid($"a type name of {nameLength} bytes");
        }

        Require(nameLength + 1, "a type name");
        ReadOnlySpan<byte> name = Take(nameLength + 1);
        Expect(name[nameLength], EndObject, "a type's end");
        name = name[..nameLength];
        if (name.SequenceEqual("Trace"u8))
        {
            ReadTrace();
        }
        else
        {
            ReadBlock(Kind(name));
        }

        Require(1, "an object's end");
        Expect(Take(1)[0], EndObject, "an object's end");
        return true;
    }

    private static BlockKind Kind(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("EventBlock"u8) ? BlockKind.Event
        : name.SequenceEqual("MetadataBlock"u8) ? BlockKind.Metadata
        : name.SequenceEqual("StackBlock"u8) ? BlockKind.Stack
        : name.SequenceEqual("SPBlock"u8) ? BlockKind.SequencePoint
        : BlockKind.Unknown;

    private void ReadStreamHeader()
    {
        Require(Magic.Length + 4 + Serialization.Length, "the stream header");
        ReadOnlySpan<byte> header = Take(Magic.Length + 4 + Serialization.Length);
        if (!header[..Magic.Length].SequenceEqual(Magic)
            || BinaryPrimitives.ReadInt32LittleEndian(header[Magic.Length..]) != Serialization.Length
            || !header[(Magic.Length + 4)..].SequenceEqual(Serialization))
        {
            throw new InvalidDataException("Not a nettrace stream of format 4 or 5: it does not start with 'Nettrace' and '!FastSerialization.1'.");
        }
    }

    private void ReadTrace()
    {
        Require(48, "the Trace object");
        ReadOnlySpan<byte> t = Take(48);
        static short S(ReadOnlySpan<byte> t, int i) => BinaryPrimitives.ReadInt16LittleEndian(t[(i * 2)..]);
        DateTime start;
        try
        {
            start = new DateTime(S(t, 0), S(t, 1), S(t, 3), S(t, 4), S(t, 5), S(t, 6), S(t, 7), DateTimeKind.Utc);
        }
        catch (ArgumentOutOfRangeException)
        {
            start = default;
        }

        Info = new NetTraceInfo(
            start,
            BinaryPrimitives.ReadInt64LittleEndian(t[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(t[24..]),
            BinaryPrimitives.ReadInt32LittleEndian(t[32..]),
            BinaryPrimitives.ReadInt32LittleEndian(t[36..]),
            BinaryPrimitives.ReadInt32LittleEndian(t[40..]));
        if (Info.TicksPerSecond <= 0)
        {
            throw Invalid($"a tick frequency of {Info.TicksPerSecond}");
        }

        _sink.OnTrace(Info);
    }

    private void ReadBlock(BlockKind kind)
    {
        Require(4, "a block's size");
        int size = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
        if (size is < 0 or > MaxBlockBytes)
        {
            throw Invalid($"a block of {size} bytes (at most {MaxBlockBytes})");
        }

        int padding = (int)((4 - (_offset & 3)) & 3);
        Require(padding + size, "a block");
        Take(padding);
        long blockOffset = _offset;
        ReadOnlySpan<byte> block = Take(size);
        switch (kind)
        {
            case BlockKind.Event:
            case BlockKind.Metadata:
                ReadEvents(block, blockOffset, kind == BlockKind.Metadata);
                break;
            case BlockKind.Stack:
                ReadStacks(block);
                break;
            case BlockKind.SequencePoint:
                if (block.Length < 12)
                {
                    throw Invalid("a sequence point shorter than 12 bytes");
                }

                _sink.OnSequencePoint(BinaryPrimitives.ReadInt64LittleEndian(block));
                break;
            default:
                break; // a block of a kind this reader does not know: its size lets it be skipped
        }
    }

    private void ReadEvents(ReadOnlySpan<byte> block, long blockOffset, bool metadata)
    {
        if (block.Length < 4)
        {
            throw Invalid("an event block without its header");
        }

        int headerSize = BinaryPrimitives.ReadUInt16LittleEndian(block);
        int flags = BinaryPrimitives.ReadUInt16LittleEndian(block[2..]);
        if (headerSize < 4 || headerSize > block.Length)
        {
            throw Invalid($"an event block header of {headerSize} bytes");
        }

        _metadataId = _sequence = _processor = _stack = _payloadSize = 0;
        _captureThread = _thread = _timestamp = 0;
        _activity = _related = Guid.Empty;
        int pos = headerSize;
        while (pos < block.Length)
        {
            bool sorted;
            if ((flags & CompressedHeaders) != 0)
            {
                sorted = ReadCompressedHeader(block, ref pos);
            }
            else
            {
                sorted = ReadHeader(block, ref pos);
            }

            if (_payloadSize < 0 || _payloadSize > block.Length - pos)
            {
                throw Invalid($"an event payload of {_payloadSize} bytes where {block.Length - pos} remain");
            }

            ReadOnlySpan<byte> payload = block.Slice(pos, _payloadSize);
            pos += _payloadSize;
            if ((flags & CompressedHeaders) == 0)
            {
                pos += (int)((4 - ((blockOffset + pos) & 3)) & 3);
            }

            if (metadata)
            {
                ReadMetadata(payload);
            }
            else
            {
                Events++;
                _metadata.TryGetValue(_metadataId, out NetTraceMetadata? kind);
                var header = new NetTraceEvent(kind, _metadataId, _sequence, _thread, _captureThread, _processor, _stack, _timestamp, sorted, _activity, _related);
                _sink.OnEvent(header, payload);
            }
        }
    }

    private bool ReadCompressedHeader(ReadOnlySpan<byte> b, ref int pos)
    {
        byte flags = Byte(b, ref pos);
        if ((flags & 1) != 0)
        {
            _metadataId = (int)VarUInt32(b, ref pos);
        }

        if ((flags & 2) != 0)
        {
            _sequence += (int)VarUInt32(b, ref pos);
            _captureThread = (long)VarUInt64(b, ref pos);
            _processor = (int)VarUInt32(b, ref pos);
        }

        if (_metadataId != 0)
        {
            _sequence++;
        }

        if ((flags & 4) != 0)
        {
            _thread = (long)VarUInt64(b, ref pos);
        }

        if ((flags & 8) != 0)
        {
            _stack = (int)VarUInt32(b, ref pos);
        }

        _timestamp += (long)VarUInt64(b, ref pos);
        if ((flags & 16) != 0)
        {
            _activity = ReadGuid(b, ref pos);
        }

        if ((flags & 32) != 0)
        {
            _related = ReadGuid(b, ref pos);
        }

        if ((flags & 128) != 0)
        {
            _payloadSize = (int)VarUInt32(b, ref pos);
        }

        return (flags & 64) != 0;
    }

    private bool ReadHeader(ReadOnlySpan<byte> b, ref int pos)
    {
        const int Size = 80;
        if (b.Length - pos < Size)
        {
            throw Invalid("an event header cut short");
        }

        ReadOnlySpan<byte> h = b.Slice(pos, Size);
        int metadataId = BinaryPrimitives.ReadInt32LittleEndian(h[4..]);
        _metadataId = metadataId & 0x7FFFFFFF;
        _sequence = BinaryPrimitives.ReadInt32LittleEndian(h[8..]);
        _thread = BinaryPrimitives.ReadInt64LittleEndian(h[12..]);
        _captureThread = BinaryPrimitives.ReadInt64LittleEndian(h[20..]);
        _processor = BinaryPrimitives.ReadInt32LittleEndian(h[28..]);
        _stack = BinaryPrimitives.ReadInt32LittleEndian(h[32..]);
        _timestamp = BinaryPrimitives.ReadInt64LittleEndian(h[36..]);
        _activity = new Guid(h.Slice(44, 16));
        _related = new Guid(h.Slice(60, 16));
        _payloadSize = BinaryPrimitives.ReadInt32LittleEndian(h[76..]);
        pos += Size;
        return metadataId < 0;
    }

    private void ReadMetadata(ReadOnlySpan<byte> p)
    {
        int pos = 0;
        int id = Int32(p, ref pos);
        string provider = Utf16(p, ref pos);
        int eventId = Int32(p, ref pos);
        string name = Utf16(p, ref pos);
        long keywords = p.Length - pos >= 8 ? BinaryPrimitives.ReadInt64LittleEndian(p[pos..]) : 0;
        pos += 8;
        int version = p.Length - pos >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(p[pos..]) : 0;
        pos += 4;
        int level = p.Length - pos >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(p[pos..]) : 0;
        var metadata = new NetTraceMetadata(id, provider, eventId, name, version, level, keywords);
        _metadata[id] = metadata;
        _sink.OnMetadata(metadata);
    }

    private void ReadStacks(ReadOnlySpan<byte> b)
    {
        int pos = 0;
        int id = Int32(b, ref pos);
        int count = Int32(b, ref pos);
        for (int i = 0; i < count; i++)
        {
            int size = Int32(b, ref pos);
            if (size < 0 || size > b.Length - pos)
            {
                throw Invalid($"a stack of {size} bytes where {b.Length - pos} remain");
            }

            _sink.OnStack(id + i, b.Slice(pos, size));
            pos += size;
        }
    }

    private static byte Byte(ReadOnlySpan<byte> b, ref int pos) =>
        pos < b.Length ? b[pos++] : throw Invalid("an event header cut short");

    private static int Int32(ReadOnlySpan<byte> b, ref int pos)
    {
        if (b.Length - pos < 4)
        {
            throw Invalid("a record cut short");
        }

        int value = BinaryPrimitives.ReadInt32LittleEndian(b[pos..]);
        pos += 4;
        return value;
    }

    private static Guid ReadGuid(ReadOnlySpan<byte> b, ref int pos)
    {
        if (b.Length - pos < 16)
        {
            throw Invalid("an event header cut short");
        }

        var value = new Guid(b.Slice(pos, 16));
        pos += 16;
        return value;
    }

    private static uint VarUInt32(ReadOnlySpan<byte> b, ref int pos)
    {
        ulong value = VarUInt64(b, ref pos);
        return value <= uint.MaxValue ? (uint)value : throw Invalid($"a 32-bit number of value {value}");
    }

    private static ulong VarUInt64(ReadOnlySpan<byte> b, ref int pos)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte next = Byte(b, ref pos);
            value |= (ulong)(next & 0x7F) << shift;
            if ((next & 0x80) == 0)
            {
                return value;
            }
        }

        throw Invalid("a variable-length number longer than 10 bytes");
    }

    /// <summary>Reads a NUL-terminated UTF-16 string at <paramref name="pos"/> (as metadata and the runtime's payloads carry them) and moves past it.</summary>
    /// <exception cref="InvalidDataException">The string has no terminator.</exception>
    internal static string Utf16(ReadOnlySpan<byte> b, ref int pos)
    {
        int start = pos;
        while (pos + 1 < b.Length && (b[pos] | b[pos + 1]) != 0)
        {
            pos += 2;
        }

        if (pos + 1 >= b.Length)
        {
            throw Invalid("a name without its terminator");
        }

        string text = Encoding.Unicode.GetString(b[start..pos]);
        pos += 2;
        return text;
    }

    private static InvalidDataException Invalid(string what) => new($"Not a valid nettrace stream: {what}.");

    private void Expect(byte actual, byte expected, string what)
    {
        if (actual != expected)
        {
            throw new InvalidDataException($"Not a valid nettrace stream: byte {actual} at offset {_offset - 1} where {what} (tag {expected}) belongs.");
        }
    }

    private void Require(int count, string what)
    {
        if (!Ensure(count))
        {
            throw new InvalidDataException($"The nettrace stream ended inside {what}, at offset {_offset + (_end - _start)}.");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        var span = new ReadOnlySpan<byte>(_buffer, _start, count);
        _start += count;
        _offset += count;
        return span;
    }

    /// <summary>Reads until <paramref name="count"/> bytes are buffered; false when the stream ends first.</summary>
    private bool Ensure(int count)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        if (count > _buffer.Length)
        {
            byte[] larger = new byte[Math.Max(count, _buffer.Length * 2)];
            Buffer.BlockCopy(_buffer, _start, larger, 0, _end - _start);
            _end -= _start;
            _start = 0;
            _buffer = larger;
        }
        else if (_buffer.Length - _start < count)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        while (_end - _start < count)
        {
            if (_mayWait && (_stream is not NetworkStream network || !network.DataAvailable))
            {
                _sink.OnCaughtUp();
            }

            int read = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (read <= 0)
            {
                return false;
            }

            _end += read;
        }

        return true;
    }

    private enum BlockKind
    {
        Unknown,
        Event,
        Metadata,
        Stack,
        SequencePoint,
    }
}
