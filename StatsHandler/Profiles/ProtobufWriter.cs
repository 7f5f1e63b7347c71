using System.Text;

namespace StatsHandler;

/// <summary>
/// Writes protocol buffers' wire format (varints, 64-bit and length-delimited fields) into a growable buffer, by
/// hand, for the pprof profile. A nested message is written to a second writer and copied in with
/// <see cref="WriteMessage"/>; repeated integers are written packed, as proto3 does by default.
/// </summary>
internal sealed class ProtobufWriter
{
    private const int WireVarint = 0;
    private const int WireLengthDelimited = 2;

    private byte[] _buffer = new byte[256];
    private int _length;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    /// <summary>How many bytes have been written.</summary>
    public int Length => _length;

    /// <summary>Forgets what was written, keeping the buffer.</summary>
    public void Clear() => _length = 0;

    /// <summary>Writes an unsigned integer field; proto3 leaves a zero out, so a zero writes nothing.</summary>
    public void WriteUInt64(int field, ulong value)
    {
        if (value == 0)
        {
            return;
        }

        WriteTag(field, WireVarint);
        WriteVarint(value);
    }

    /// <summary>Writes a signed (int64, not zigzag) integer field; a zero writes nothing.</summary>
    public void WriteInt64(int field, long value) => WriteUInt64(field, unchecked((ulong)value));

    /// <summary>Writes a bool field; false writes nothing.</summary>
    public void WriteBool(int field, bool value) => WriteUInt64(field, value ? 1UL : 0UL);

    /// <summary>
    /// Writes a string field, even when empty (a repeated string such as pprof's string table must keep its
    /// empty first entry).
    /// </summary>
    public void WriteString(int field, string value)
    {
        WriteTag(field, WireLengthDelimited);
        int count = Encoding.UTF8.GetByteCount(value);
        WriteVarint((ulong)count);
        Ensure(count);
        _length += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
    }

    /// <summary>Writes a nested message: the other writer's bytes, length-delimited.</summary>
    public void WriteMessage(int field, ProtobufWriter message)
    {
        WriteTag(field, WireLengthDelimited);
        WriteVarint((ulong)message._length);
        Ensure(message._length);
        message.WrittenSpan.CopyTo(_buffer.AsSpan(_length));
        _length += message._length;
    }

    /// <summary>Writes a packed repeated unsigned integer field; an empty list writes nothing.</summary>
    public void WritePacked(int field, ReadOnlySpan<ulong> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        int size = 0;
        foreach (ulong value in values)
        {
            size += VarintSize(value);
        }

        WriteTag(field, WireLengthDelimited);
        WriteVarint((ulong)size);
        foreach (ulong value in values)
        {
            WriteVarint(value);
        }
    }

    /// <summary>Writes a packed repeated signed (int64) field; an empty list writes nothing.</summary>
    public void WritePacked(int field, ReadOnlySpan<long> values) =>
        WritePacked(field, System.Runtime.InteropServices.MemoryMarshal.Cast<long, ulong>(values));

    /// <summary>Copies the written bytes to <paramref name="stream"/>.</summary>
    public void CopyTo(Stream stream) => stream.Write(_buffer, 0, _length);

    private void WriteTag(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

    private void WriteVarint(ulong value)
    {
        Ensure(10);
        while (value >= 0x80)
        {
            _buffer[_length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        _buffer[_length++] = (byte)value;
    }

    private static int VarintSize(ulong value)
    {
        int size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    private void Ensure(int more)
    {
        if (_length + more > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + more));
        }
    }
}
