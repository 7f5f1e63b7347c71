namespace StatsHandler;

/// <summary>
/// One histogram cell's base-2 exponential buckets (<see cref="ExponentialScale"/>): a window of counters per sign at
/// the highest scale whose observed range fits the bucket budget, and a count of zeros. A measurement lands with one
/// <see cref="Interlocked.Increment(ref long)"/> when it falls in the window; one outside it takes the cell's lock and
/// publishes a new window, at a lower scale when the range no longer fits.
/// </summary>
/// <remarks>
/// A window is never moved or emptied: a thread that read it just before it was replaced still counts in it, and a
/// reading (<see cref="AddTo"/>) walks the current window and every one it replaced, mapping their counts to one scale.
/// NaN and infinities land in no bucket: the classic buckets and the count keep them, as they always did.
/// </remarks>
internal sealed class ExponentialBuckets
{
    private readonly Lock _lock = new();
    private readonly int _budget;
    private Window? _positive;
    private Window? _negative;
    private long _zero;

    /// <param name="budget">The most buckets per sign (160 by default).</param>
    public ExponentialBuckets(int budget) => _budget = budget;

    /// <summary>Counts one observation. Allocates only when the value falls outside its sign's window.</summary>
    public void Record(double value)
    {
        if (value > 0)
        {
            if (value <= double.MaxValue)
            {
                Record(ref _positive, value);
            }
        }
        else if (value < 0)
        {
            if (value >= -double.MaxValue)
            {
                Record(ref _negative, -value);
            }
        }
        else if (value == 0)
        {
            Interlocked.Increment(ref _zero);
        }
    }

    /// <summary>Adds this cell's counts to <paramref name="reading"/>.</summary>
    public void AddTo(ExponentialReading reading)
    {
        reading.AddZero(Volatile.Read(ref _zero));
        for (Window? w = Volatile.Read(ref _positive); w is not null; w = w.Previous)
        {
            reading.Add(positive: true, w.Scale, w.Offset, w.Counts);
        }

        for (Window? w = Volatile.Read(ref _negative); w is not null; w = w.Previous)
        {
            reading.Add(positive: false, w.Scale, w.Offset, w.Counts);
        }
    }

    private void Record(ref Window? side, double magnitude)
    {
        Window? window = Volatile.Read(ref side);
        if (window is not null)
        {
            int at = ExponentialScale.IndexOf(magnitude, window.Scale, window.LogFactor) - window.Offset;
            if ((uint)at < (uint)window.Counts.Length)
            {
                Interlocked.Increment(ref window.Counts[at]);
                return;
            }
        }

        Grow(ref side, magnitude);
    }

    /// <summary>Under the lock: counts a magnitude outside the window, in a new window that covers it and everything seen.</summary>
    private void Grow(ref Window? side, double magnitude)
    {
        lock (_lock)
        {
            Window? window = side;
            int scale = window?.Scale ?? ExponentialScale.MaxScale;
            int index = ExponentialScale.IndexOf(magnitude, scale);
            if (window is not null && (uint)(index - window.Offset) < (uint)window.Counts.Length)
            {
                // Another thread made room meanwhile.
                Interlocked.Increment(ref window.Counts[index - window.Offset]);
                return;
            }

            int low = index;
            int high = index;
            if (window is not null)
            {
                (int usedLow, int usedHigh) = window.Used();
                low = Math.Min(low, usedLow);
                high = Math.Max(high, usedHigh);
            }

            // The highest scale at which everything seen fits the budget.
            while ((long)high - low + 1 > _budget && scale > ExponentialScale.MinScale)
            {
                scale--;
                low >>= 1;
                high >>= 1;
                index >>= 1;
            }

            // Room on both sides, so a range that drifts a little does not need a new window at once.
            int offset = low - ((_budget - (high - low + 1)) / 2);
            var next = new Window(scale, offset, _budget, low, high, window);
            next.Counts[index - offset] = 1;
            Volatile.Write(ref side, next);
        }
    }

    /// <summary>One sign's counters at one scale, from bucket <see cref="Offset"/> on; the windows it replaced hang off it.</summary>
    private sealed class Window
    {
        public readonly int Scale;
        public readonly double LogFactor;
        public readonly int Offset;
        public readonly long[] Counts;
        public readonly Window? Previous;

        // The buckets, at this scale, of everything seen before this window (the windows it replaced).
        private readonly int _seenLow;
        private readonly int _seenHigh;

        public Window(int scale, int offset, int budget, int seenLow, int seenHigh, Window? previous)
        {
            Scale = scale;
            LogFactor = ExponentialScale.LogFactor(scale);
            Offset = offset;
            Counts = new long[budget];
            Previous = previous;
            _seenLow = seenLow;
            _seenHigh = seenHigh;
        }

        /// <summary>The lowest and highest bucket, at this scale, that this window or one it replaced has counted in.</summary>
        public (int Low, int High) Used()
        {
            int low = _seenLow;
            int high = _seenHigh;
            for (int i = 0; i < Counts.Length; i++)
            {
                if (Volatile.Read(ref Counts[i]) != 0)
                {
                    low = Math.Min(low, Offset + i);
                    high = Math.Max(high, Offset + i);
                }
            }

            return (low, high);
        }
    }
}
