using System.Buffers.Binary;
using System.Diagnostics;

namespace StatsHandler;

/// <summary>An exemplar as a scrape reads it: the trace and span of a measurement, its value and when it was taken.</summary>
/// <param name="TraceId">The W3C trace id, 32 lowercase hex digits.</param>
/// <param name="SpanId">The W3C span id, 16 lowercase hex digits.</param>
/// <param name="Value">The measured value, in the instrument's unit.</param>
/// <param name="UnixMilliseconds">When it was measured, milliseconds since the Unix epoch.</param>
internal readonly record struct Exemplar(string TraceId, string SpanId, double Value, long UnixMilliseconds);

/// <summary>
/// One bucket's latest exemplar. A measurement taken inside an <see cref="Activity"/> writes it without a lock (a
/// version number, odd while a writer is inside; a writer that finds another inside leaves its exemplar out, the
/// other one being as recent); a reader retries while a write is under way.
/// </summary>
internal sealed class ExemplarCell
{
    private int _version;
    private ulong _trace0;
    private ulong _trace1;
    private ulong _span;
    private double _value;
    private long _unixMilliseconds;

    /// <summary>Keeps <paramref name="activity"/>'s ids with <paramref name="value"/> as this bucket's exemplar, unless another thread is writing one.</summary>
    public void Offer(double value, Activity activity)
    {
        int version = Volatile.Read(ref _version);
        if ((version & 1) != 0 || Interlocked.CompareExchange(ref _version, version + 1, version) != version)
        {
            return;
        }

        Span<byte> ids = stackalloc byte[24];
        activity.TraceId.CopyTo(ids[..16]);
        activity.SpanId.CopyTo(ids[16..]);
        _trace0 = BinaryPrimitives.ReadUInt64BigEndian(ids);
        _trace1 = BinaryPrimitives.ReadUInt64BigEndian(ids[8..]);
        _span = BinaryPrimitives.ReadUInt64BigEndian(ids[16..]);
        _value = value;
        _unixMilliseconds = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Volatile.Write(ref _version, version + 2);
    }

    /// <summary>The exemplar, if one was ever written and a consistent copy could be read.</summary>
    public bool TryRead(out Exemplar exemplar)
    {
        for (int attempt = 0; attempt < 8; attempt++)
        {
            int before = Volatile.Read(ref _version);
            if (before == 0)
            {
                break;
            }

            if ((before & 1) != 0)
            {
                Thread.SpinWait(20);
                continue;
            }

            ulong trace0 = Volatile.Read(ref _trace0);
            ulong trace1 = Volatile.Read(ref _trace1);
            ulong span = Volatile.Read(ref _span);
            double value = Volatile.Read(ref _value);
            long when = Volatile.Read(ref _unixMilliseconds);
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _version) == before)
            {
                exemplar = new Exemplar($"{trace0:x16}{trace1:x16}", $"{span:x16}", value, when);
                return true;
            }
        }

        exemplar = default;
        return false;
    }
}
