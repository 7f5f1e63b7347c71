using System.IO.Compression;
using System.Runtime.InteropServices;

namespace StatsHandler;

/// <summary>
/// A profile in Go's pprof format (google/pprof <c>proto/profile.proto</c>), built up and then written gzipped, as
/// <c>go tool pprof</c>, speedscope and Pyroscope read it. Strings go once into the string table (entry 0 is the empty
/// string, as the format requires); functions, mappings and locations are kept once each and numbered from 1;
/// samples with the same stack are merged, their values summed. Not thread-safe: one request builds one profile.
/// </summary>
internal sealed class PprofProfile
{
    private readonly List<string> _strings = [""];
    private readonly Dictionary<string, long> _stringIds = new(StringComparer.Ordinal) { [""] = 0 };
    private readonly List<(long Type, long Unit)> _sampleTypes = [];
    private readonly List<(long Name, long SystemName, long File)> _functions = [];
    private readonly Dictionary<(long, long, long), ulong> _functionIds = [];
    private readonly List<long> _mappings = [];
    private readonly Dictionary<long, ulong> _mappingIds = [];
    private readonly List<(ulong Function, ulong Mapping, ulong Address)> _locations = [];
    private readonly Dictionary<(ulong, ulong, ulong), ulong> _locationIds = [];
    private readonly Dictionary<ulong[], long[]> _samples = new(StackComparer.Instance);
    private readonly List<ulong[]> _sampleOrder = [];
    private readonly List<long> _comments = [];
    private (long Type, long Unit) _periodType;

    /// <summary>Creates a profile whose samples carry one value per (type, unit) pair, for example ("cpu", "nanoseconds").</summary>
    /// <exception cref="ArgumentException">No sample type was given.</exception>
    public PprofProfile(params ReadOnlySpan<(string Type, string Unit)> sampleTypes)
    {
        if (sampleTypes.IsEmpty)
        {
            throw new ArgumentException("A profile needs at least one sample type, such as (\"cpu\", \"nanoseconds\").", nameof(sampleTypes));
        }

        foreach ((string type, string unit) in sampleTypes)
        {
            _sampleTypes.Add((Intern(type), Intern(unit)));
        }
    }

    /// <summary>When the collection started, in nanoseconds since the Unix epoch (UTC).</summary>
    public long TimeNanos { get; set; }

    /// <summary>How long the collection ran, in nanoseconds.</summary>
    public long DurationNanos { get; set; }

    /// <summary>The number of events between samples (for a CPU profile, the sampling interval in nanoseconds).</summary>
    public long Period { get; private set; }

    /// <summary>How many distinct stacks the profile holds.</summary>
    public int SampleCount => _sampleOrder.Count;

    /// <summary>Sets what one sample stands for: the period's type, unit and size.</summary>
    public void SetPeriod(string type, string unit, long period)
    {
        _periodType = (Intern(type), Intern(unit));
        Period = period;
    }

    /// <summary>Adds a line of free text that <c>go tool pprof</c> shows with the profile.</summary>
    public void AddComment(string text) => _comments.Add(Intern(text));

    /// <summary>The id of the function with this name (and the name the system knows it by, and its file), added once.</summary>
    public ulong Function(string name, string? systemName = null, string? fileName = null)
    {
        var key = (Intern(name), Intern(systemName ?? name), Intern(fileName ?? ""));
        if (!_functionIds.TryGetValue(key, out ulong id))
        {
            _functions.Add(key);
            id = (ulong)_functions.Count;
            _functionIds.Add(key, id);
        }

        return id;
    }

    /// <summary>The id of the mapping for a module (its file name), added once; pprof shows it beside each frame.</summary>
    public ulong Mapping(string fileName)
    {
        long name = Intern(fileName);
        if (!_mappingIds.TryGetValue(name, out ulong id))
        {
            _mappings.Add(name);
            id = (ulong)_mappings.Count;
            _mappingIds.Add(name, id);
        }

        return id;
    }

    /// <summary>The id of the location of a function (in a mapping, at an address, both optional), added once.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The function or the mapping id is not one this profile handed out.</exception>
    public ulong Location(ulong functionId, ulong mappingId = 0, ulong address = 0)
    {
        if (functionId == 0 || functionId > (ulong)_functions.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(functionId), functionId, "Use an id returned by Function().");
        }

        if (mappingId > (ulong)_mappings.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(mappingId), mappingId, "Use 0 or an id returned by Mapping().");
        }

        var key = (functionId, mappingId, address);
        if (!_locationIds.TryGetValue(key, out ulong id))
        {
            _locations.Add(key);
            id = (ulong)_locations.Count;
            _locationIds.Add(key, id);
        }

        return id;
    }

    /// <summary>
    /// Adds a sample: its stack as location ids, leaf first, and one value per sample type. A stack seen before has
    /// the values added to it.
    /// </summary>
    /// <exception cref="ArgumentException">The number of values is not the number of sample types, or a location id is unknown.</exception>
    public void AddSample(ReadOnlySpan<ulong> stackLeafFirst, params ReadOnlySpan<long> values)
    {
        if (values.Length != _sampleTypes.Count)
        {
            throw new ArgumentException($"A sample needs {_sampleTypes.Count} value(s), one per sample type; got {values.Length}.", nameof(values));
        }

        foreach (ulong location in stackLeafFirst)
        {
            if (location == 0 || location > (ulong)_locations.Count)
            {
                throw new ArgumentException($"Location id {location} was not returned by Location().", nameof(stackLeafFirst));
            }
        }

        ulong[] stack = stackLeafFirst.ToArray();
        if (!_samples.TryGetValue(stack, out long[]? sums))
        {
            sums = new long[values.Length];
            _samples.Add(stack, sums);
            _sampleOrder.Add(stack);
        }

        for (int i = 0; i < values.Length; i++)
        {
            sums[i] += values[i];
        }
    }

    /// <summary>Writes the profile, gzipped, to <paramref name="stream"/>.</summary>
    public void WriteGzipTo(Stream stream)
    {
        using var gzip = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true);
        gzip.Write(Encode().WrittenSpan);
    }

    /// <summary>The profile, gzipped, as bytes.</summary>
    public byte[] ToGzip()
    {
        using var memory = new MemoryStream();
        WriteGzipTo(memory);
        return memory.ToArray();
    }

    /// <summary>The profile's protobuf bytes before compression. Zeros are left out, as proto3 writes them.</summary>
    internal ProtobufEncoder Encode()
    {
        var profile = new ProtobufEncoder();
        var message = new ProtobufEncoder();
        var inner = new ProtobufEncoder();

        foreach ((long type, long unit) in _sampleTypes)
        {
            WriteValueType(profile, 1, message, type, unit);
        }

        foreach (ulong[] stack in _sampleOrder)
        {
            message.Clear();
            Packed(message, 1, stack, inner);
            Packed(message, 2, MemoryMarshal.Cast<long, ulong>(_samples[stack]), inner);
            profile.Bytes(2, message.WrittenSpan);
        }

        for (int i = 0; i < _mappings.Count; i++)
        {
            message.Clear();
            NonZero(message, 1, (ulong)i + 1);
            NonZero(message, 5, (ulong)_mappings[i]);
            NonZero(message, 7, 1);
            profile.Bytes(3, message.WrittenSpan);
        }

        for (int i = 0; i < _locations.Count; i++)
        {
            (ulong function, ulong mapping, ulong address) = _locations[i];
            message.Clear();
            NonZero(message, 1, (ulong)i + 1);
            NonZero(message, 2, mapping);
            NonZero(message, 3, address);
            inner.Clear();
            NonZero(inner, 1, function);
            message.Bytes(4, inner.WrittenSpan);
            profile.Bytes(4, message.WrittenSpan);
        }

        for (int i = 0; i < _functions.Count; i++)
        {
            (long name, long systemName, long file) = _functions[i];
            message.Clear();
            NonZero(message, 1, (ulong)i + 1);
            NonZero(message, 2, (ulong)name);
            NonZero(message, 3, (ulong)systemName);
            NonZero(message, 4, (ulong)file);
            profile.Bytes(5, message.WrittenSpan);
        }

        foreach (string text in _strings)
        {
            profile.String(6, text);
        }

        NonZero(profile, 9, (ulong)TimeNanos);
        NonZero(profile, 10, (ulong)DurationNanos);
        if (_periodType != default)
        {
            WriteValueType(profile, 11, message, _periodType.Type, _periodType.Unit);
        }

        NonZero(profile, 12, (ulong)Period);
        foreach (long comment in _comments)
        {
            profile.UInt64(13, (ulong)comment);
        }

        return profile;
    }

    private static void WriteValueType(ProtobufEncoder profile, int field, ProtobufEncoder message, long type, long unit)
    {
        message.Clear();
        NonZero(message, 1, (ulong)type);
        NonZero(message, 2, (ulong)unit);
        profile.Bytes(field, message.WrittenSpan);
    }

    private static void NonZero(ProtobufEncoder message, int field, ulong value)
    {
        if (value != 0)
        {
            message.UInt64(field, value);
        }
    }

    /// <summary>A packed repeated <c>uint64</c>/<c>int64</c> field (plain varints, no zigzag); empty writes nothing.</summary>
    private static void Packed(ProtobufEncoder message, int field, ReadOnlySpan<ulong> values, ProtobufEncoder scratch)
    {
        if (values.IsEmpty)
        {
            return;
        }

        scratch.Clear();
        foreach (ulong value in values)
        {
            scratch.Varint(value);
        }

        message.Bytes(field, scratch.WrittenSpan);
    }

    private long Intern(string text)
    {
        if (!_stringIds.TryGetValue(text, out long id))
        {
            id = _strings.Count;
            _strings.Add(text);
            _stringIds.Add(text, id);
        }

        return id;
    }
}
