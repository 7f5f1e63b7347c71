using System.Buffers.Binary;
using System.Text;

namespace StatsHandler.Tests;

/// <summary>A test's own protocol buffers reader: one message's fields, in order, by number (varints, doubles, bytes).</summary>
internal sealed class ProtobufMessage
{
    private readonly List<(int Field, int WireType, ulong Number, byte[] Bytes)> _fields = [];

    public ProtobufMessage(ReadOnlySpan<byte> data)
    {
        int i = 0;
        while (i < data.Length)
        {
            ulong key = Varint(data, ref i);
            int field = (int)(key >> 3);
            int wire = (int)(key & 7);
            switch (wire)
            {
                case 0:
                    _fields.Add((field, wire, Varint(data, ref i), []));
                    break;
                case 1:
                    _fields.Add((field, wire, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]), []));
                    i += 8;
                    break;
                case 2:
                    int length = (int)Varint(data, ref i);
                    _fields.Add((field, wire, 0, data.Slice(i, length).ToArray()));
                    i += length;
                    break;
                default:
                    throw new FormatException($"wire type {wire} of field {field} is not used by the exposition");
            }
        }
    }

    /// <summary>Splits an <c>encoding=delimited</c> stream into its messages.</summary>
    public static List<ProtobufMessage> ReadDelimited(byte[] stream)
    {
        var messages = new List<ProtobufMessage>();
        int i = 0;
        while (i < stream.Length)
        {
            int length = (int)Varint(stream, ref i);
            messages.Add(new ProtobufMessage(stream.AsSpan(i, length)));
            i += length;
        }

        return messages;
    }

    public bool Has(int field) => _fields.Exists(f => f.Field == field);

    public ulong UInt64(int field) => _fields.Find(f => f.Field == field).Number;

    public long SInt64(int field)
    {
        ulong raw = UInt64(field);
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    public double Double(int field) => BitConverter.UInt64BitsToDouble(UInt64(field));

    public string String(int field) => Encoding.UTF8.GetString(_fields.Find(f => f.Field == field).Bytes ?? []);

    public List<ProtobufMessage> Messages(int field) => [.. _fields.Where(f => f.Field == field).Select(f => new ProtobufMessage(f.Bytes))];

    /// <summary>A packed <c>repeated sint64</c>.</summary>
    public List<long> PackedSInt64(int field)
    {
        var values = new List<long>();
        foreach (var f in _fields.Where(f => f.Field == field))
        {
            int i = 0;
            while (i < f.Bytes.Length)
            {
                ulong raw = Varint(f.Bytes, ref i);
                values.Add((long)(raw >> 1) ^ -(long)(raw & 1));
            }
        }

        return values;
    }

    private static ulong Varint(ReadOnlySpan<byte> data, ref int i)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[i++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
