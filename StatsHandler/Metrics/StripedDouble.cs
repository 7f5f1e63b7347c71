using System.Runtime.InteropServices;

namespace StatsHandler;

/// <summary>
/// A sum of doubles that many threads add to without a lock: one compare-and-swap on a single cell while threads do
/// not collide, then (the first time two do) one cell per processor, each on a cache line of its own, summed when read.
/// Java's <c>LongAdder</c> does the same; it keeps the no-tag counter of a busy app from piling onto one cache line.
/// </summary>
/// <remarks>A mutable struct: keep it in a field and call it through that field, never through a copy.</remarks>
internal struct StripedDouble
{
    private double _base;
    private Cell[]? _cells;

    /// <summary>The sum of every value added so far (exact once adders are quiet; a moment's view while they run).</summary>
    public readonly double Sum
    {
        get
        {
            double sum = Volatile.Read(in _base);
            Cell[]? cells = Volatile.Read(in _cells);
            if (cells is not null)
            {
                for (int i = 0; i < cells.Length; i++)
                {
                    sum += Volatile.Read(in cells[i].Value);
                }
            }

            return sum;
        }
    }

    /// <summary>Adds <paramref name="value"/>. Allocates once, the first time two threads collide.</summary>
    public void Add(double value)
    {
        Cell[]? cells = Volatile.Read(ref _cells);
        if (cells is null)
        {
            if (AtomicDouble.TryAdd(ref _base, value))
            {
                return;
            }

            cells = Stripe(ref _cells);
        }

        AtomicDouble.Add(ref cells[Thread.GetCurrentProcessorId() & (cells.Length - 1)].Value, value);
    }

    /// <summary>Installs the per-processor cells (or returns the ones another thread installed first).</summary>
    internal static T[] Stripe<T>(ref T[]? cells, Func<T>? create = null)
    {
        var created = new T[StripeCount()];
        if (create is not null)
        {
            for (int i = 0; i < created.Length; i++)
            {
                created[i] = create();
            }
        }

        return Interlocked.CompareExchange(ref cells, created, null) ?? created;
    }

    /// <summary>A power of two at least the processor count (so a mask picks a cell), at most 64.</summary>
    private static int StripeCount() => (int)Math.Min(64, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, Environment.ProcessorCount)));

    /// <summary>
    /// One value alone on its cache lines: 128 bytes, so neither neighbour nor the adjacent-line prefetcher shares it.
    /// The value sits in the middle: at offset 0, the first cell's value shared a line with the array's length, which
    /// every adder reads (the index mask, the bounds check), so one processor's writes made every other one miss.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct Cell
    {
        [FieldOffset(64)]
        public double Value;
    }
}

/// <summary>Lock-free addition to a <see cref="double"/> field (the BCL has <c>Interlocked.Add</c> for integers only).</summary>
internal static class AtomicDouble
{
    /// <summary>One compare-and-swap: false, with nothing added, when another thread changed the field meanwhile.</summary>
    public static bool TryAdd(ref double location, double value)
    {
        double seen = Volatile.Read(ref location);
        return BitConverter.DoubleToInt64Bits(Interlocked.CompareExchange(ref location, seen + value, seen)) == BitConverter.DoubleToInt64Bits(seen);
    }

    /// <summary>Adds <paramref name="value"/>, retrying until no other thread intervenes; true when the first try failed.</summary>
    public static bool Add(ref double location, double value)
    {
        if (TryAdd(ref location, value))
        {
            return false;
        }

        var spinner = default(SpinWait);
        while (!TryAdd(ref location, value))
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }

        return true;
    }
}
