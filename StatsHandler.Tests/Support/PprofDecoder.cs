using System.IO.Compression;
using System.Text;

namespace StatsHandler.Tests.Support;

/// <summary>
/// Reads a gzipped pprof profile back, written for the tests from google/pprof's <c>proto/profile.proto</c> and the
/// protobuf wire format (not from the library's writer): repeated integers are accepted packed or one per field, as a
/// protobuf reader must, and an unknown field is skipped by its wire type.
/// </summary>
internal static class PprofDecoder
{
    public static DecodedProfile Decode(byte[] gzipped)
    {
        using var gzip = new GZipStream(new MemoryStream(gzipped), CompressionMode.Decompress);
        using var raw = new MemoryStream();
        gzip.CopyTo(raw);
        return DecodeRaw(raw.ToArray());
    }

    public static DecodedProfile DecodeRaw(byte[] bytes)
    {
        var profile = new DecodedProfile();
        var reader = new Reader(bytes);
        while (reader.Next(out int field, out Value value))
        {
            switch (field)
            {
                case 1: profile.SampleTypes.Add(ValueType(value.Bytes)); break;
                case 2: profile.Samples.Add(Sample(value.Bytes)); break;
                case 3: profile.Mappings.Add(Mapping(value.Bytes)); break;
                case 4: profile.Locations.Add(Location(value.Bytes)); break;
                case 5: profile.Functions.Add(Function(value.Bytes)); break;
                case 6: profile.Strings.Add(Encoding.UTF8.GetString(value.Bytes)); break;
                case 9: profile.TimeNanos = (long)value.Number; break;
                case 10: profile.DurationNanos = (long)value.Number; break;
                case 11: profile.PeriodType = ValueType(value.Bytes); break;
                case 12: profile.Period = (long)value.Number; break;
                case 13: profile.Comments.AddRange(Integers(value).Select(n => (long)n)); break;
            }
        }

        return profile;
    }

    private static (long Type, long Unit) ValueType(byte[] bytes)
    {
        long type = 0, unit = 0;
        var reader = new Reader(bytes);
        while (reader.Next(out int field, out Value value))
        {
            if (field == 1) type = (long)value.Number;
            if (field == 2) unit = (long)value.Number;
        }

        return (type, unit);
    }

    private static DecodedSample Sample(byte[] bytes)
    {
        var sample = new DecodedSample();
        var reader = new Reader(bytes);
        while (reader.Next(out int field, out Value value))
        {
            if (field == 1) sample.LocationIds.AddRange(Integers(value));
            if (field == 2) sample.Values.AddRange(Integers(value).Select(n => (long)n));
        }

        return sample;
    }

    private static DecodedMapping Mapping(byte[] bytes)
    {
        var mapping = new DecodedMapping();
        var reader = new Reader(bytes);
        while (reader.Next(out int field, out Value value))
        {
            if (field == 1) mapping.Id = value.Number;
            if (field == 5) mapping.FileName = (long)value.Number;
            if (field == 7) mapping.HasFunctions = value.Number != 0;
        }

        return mapping;
    }

    private static DecodedLocation Location(byte[] bytes)
    {
        var location = new DecodedLocation();
        var reader = new Reader(bytes);
        while (reader.Next(out int field, out Value value))
        {
            if (field == 1) location.Id = value.Number;
            if (field == 2) location.MappingId = value.Number;
            if (field == 3) location.Address = value.Number;
            if (field == 4)
            {
                var line = new Reader(value.Bytes);
                while (line.Next(out int lineField, out Value lineValue))
                {
                    if (lineField == 1) location.FunctionIds.Add(lineValue.Number);
                }
            }
        }

        return location;
    }

    private static DecodedFunction Function(byte[] bytes)
    {
        var function = new DecodedFunction();
        var reader = new Reader(bytes);
        while (reader.Next(out int field, out Value value))
        {
            if (field == 1) function.Id = value.Number;
            if (field == 2) function.Name = (long)value.Number;
            if (field == 3) function.SystemName = (long)value.Number;
            if (field == 4) function.FileName = (long)value.Number;
        }

        return function;
    }

    private static List<ulong> Integers(Value value)
    {
        if (value.Bytes is null)
        {
            return [value.Number];
        }

        var packed = new List<ulong>();
        int position = 0;
        while (position < value.Bytes.Length)
        {
            packed.Add(Reader.Varint(value.Bytes, ref position));
        }

        return packed;
    }

    private readonly record struct Value(ulong Number, byte[] Bytes);

    private sealed class Reader(byte[] bytes)
    {
        private int _position;

        public bool Next(out int field, out Value value)
        {
            field = 0;
            value = default;
            if (_position >= bytes.Length)
            {
                return false;
            }

            ulong tag = Varint(bytes, ref _position);
            field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    value = new Value(Varint(bytes, ref _position), null!);
                    break;
                case 1:
                    value = new Value(BitConverter.ToUInt64(bytes, _position), null!);
                    _position += 8;
                    break;
                case 2:
                    int length = checked((int)Varint(bytes, ref _position));
                    value = new Value(0, bytes[_position..(_position + length)]);
                    _position += length;
                    break;
                case 5:
                    value = new Value(BitConverter.ToUInt32(bytes, _position), null!);
                    _position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Wire type {tag & 7} at byte {_position} is not one proto3 writes.");
            }

            return true;
        }

        public static ulong Varint(byte[] data, ref int position)
        {
            ulong result = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte b = data[position++];
                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return result;
                }
            }
        }
    }
}

internal sealed class DecodedProfile
{
    public List<(long Type, long Unit)> SampleTypes { get; } = [];
    public List<DecodedSample> Samples { get; } = [];
    public List<DecodedMapping> Mappings { get; } = [];
    public List<DecodedLocation> Locations { get; } = [];
    public List<DecodedFunction> Functions { get; } = [];
    public List<string> Strings { get; } = [];
    public List<long> Comments { get; } = [];
    public long TimeNanos { get; set; }
    public long DurationNanos { get; set; }
    public (long Type, long Unit) PeriodType { get; set; }
    public long Period { get; set; }

    /// <summary>The sample types as "type/unit" text.</summary>
    public string[] SampleTypeNames => SampleTypes.Select(t => $"{Strings[(int)t.Type]}/{Strings[(int)t.Unit]}").ToArray();

    /// <summary>A sample's stack as function names, leaf first, through locations and functions.</summary>
    public string[] Stack(DecodedSample sample) =>
        sample.LocationIds.Select(id => Locations.Single(l => l.Id == id))
            .SelectMany(l => l.FunctionIds.Select(f => Strings[(int)Functions.Single(fn => fn.Id == f).Name]))
            .ToArray();
}

internal sealed class DecodedSample
{
    public List<ulong> LocationIds { get; } = [];
    public List<long> Values { get; } = [];
}

internal sealed class DecodedMapping
{
    public ulong Id { get; set; }
    public long FileName { get; set; }
    public bool HasFunctions { get; set; }
}

internal sealed class DecodedLocation
{
    public ulong Id { get; set; }
    public ulong MappingId { get; set; }
    public ulong Address { get; set; }
    public List<ulong> FunctionIds { get; } = [];
}

internal sealed class DecodedFunction
{
    public ulong Id { get; set; }
    public long Name { get; set; }
    public long SystemName { get; set; }
    public long FileName { get; set; }
}
