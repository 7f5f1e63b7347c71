using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace StatsHandler;

/// <summary>
/// Writes protocol buffers wire format by hand: varints, zigzag, fixed 64-bit doubles, and length-delimited fields.
/// A nested message is written into its own encoder and copied in with its length, which is all the Prometheus
/// exposition needs (a few hundred bytes per family).
/// </summary>
internal sealed class ProtobufEncoder
{
    private readonly ArrayBufferWriter<byte> _bytes = new(256);

    /// <summary>What has been written.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _bytes.WrittenSpan;

    /// <summary>Forgets what was written, to encode the next message.</summary>
    public void Clear() => _bytes.ResetWrittenCount();

    /// <summary>A base-128 varint, seven bits a byte, low bits first.</summary>
    public void Varint(ulong value)
    {
        Span<byte> scratch = stackalloc byte[10];
        int n = 0;
        while (value >= 0x80)
        {
            scratch[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        scratch[n++] = (byte)value;
        _bytes.Write(scratch[..n]);
    }

    /// <summary>A field of wire type 0 (<c>uint64</c>, <c>int64</c>, an enum).</summary>
    public void UInt64(int field, ulong value)
    {
        Tag(field, 0);
        Varint(value);
    }

    /// <summary>A <c>sint32</c>/<c>sint64</c> field: zigzag, so small negative numbers stay short.</summary>
    public void SInt64(int field, long value) => UInt64(field, ZigZag(value));

    /// <summary>A <c>double</c> field (wire type 1, little-endian).</summary>
    public void Double(int field, double value)
    {
        Tag(field, 1);
        Span<byte> scratch = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(scratch, value);
        _bytes.Write(scratch);
    }

    /// <summary>A <c>string</c> field, UTF-8.</summary>
    public void String(int field, string value)
    {
        Tag(field, 2);
        int count = Encoding.UTF8.GetByteCount(value);
        Varint((ulong)count);
        Span<byte> target = _bytes.GetSpan(count);
        Encoding.UTF8.GetBytes(value, target);
        _bytes.Advance(count);
    }

    /// <summary>A nested message (or packed repeated field) already encoded in <paramref name="message"/>.</summary>
    public void Bytes(int field, ReadOnlySpan<byte> message)
    {
        Tag(field, 2);
        Varint((ulong)message.Length);
        _bytes.Write(message);
    }

    /// <summary>A packed <c>repeated sint64</c> field: one length, then the zigzag varints.</summary>
    public void PackedSInt64(int field, ReadOnlySpan<long> values, ProtobufEncoder scratch)
    {
        scratch.Clear();
        foreach (long value in values)
        {
            scratch.Varint(ZigZag(value));
        }

        Bytes(field, scratch.WrittenSpan);
    }

    /// <summary>Writes <paramref name="message"/> prefixed with its length as a varint: the <c>encoding=delimited</c> stream.</summary>
    public void Delimited(ReadOnlySpan<byte> message)
    {
        Varint((ulong)message.Length);
        _bytes.Write(message);
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private void Tag(int field, int wireType) => Varint((ulong)((field << 3) | wireType));
}
