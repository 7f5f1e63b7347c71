namespace StatsHandler;

/// <summary>
/// Turns cumulative counters into rates over a fixed interval, independent of how often or by how many
/// clients it is asked: each rate compares now with the newest kept sample at least one interval old.
/// </summary>
/// <remarks>
/// The sampler starts with a sample at process start where every counter is zero, so the first snapshot has
/// meaningful rates (the averages since start). Samples closer together than a quarter interval are not kept,
/// so a burst of requests cannot push the old samples out. Not thread-safe: the collector locks around it.
/// </remarks>
internal sealed class StatsSampler
{
    private const int Capacity = 16;

    private readonly TimeProvider _time;
    private readonly long _intervalTicks;
    private readonly RateSample[] _ring = new RateSample[Capacity];
    private int _oldest;
    private int _count;

    public StatsSampler(TimeProvider time, TimeSpan interval, DateTimeOffset processStart)
    {
        _time = time;
        _intervalTicks = ToTimestampTicks(interval);

        // Counters are zero when the process starts; place that sample at the process start on this clock.
        TimeSpan uptime = time.GetUtcNow() - processStart;
        long uptimeTicks = Math.Max(ToTimestampTicks(uptime), 1);
        Add(new RateSample(time.GetTimestamp() - uptimeTicks, 0, 0, 0, 0));
    }

    /// <summary>Fills in the rates of <paramref name="raw"/>, read just now, and remembers it for later rates.</summary>
    public RuntimeStats Sample(in RuntimeStats raw)
    {
        long now = _time.GetTimestamp();
        var current = new RateSample(
            now,
            raw.CpuUserSeconds + raw.CpuSystemSeconds,
            raw.MemoryTotalAllocBytes,
            raw.GcCount,
            raw.GcPauseTotalMs);

        RateSample baseline = Baseline(now);
        double seconds = (double)(now - baseline.Timestamp) / _time.TimestampFrequency;
        RuntimeStats stats;
        if (seconds <= 0 || double.IsNaN(seconds))
        {
            // The clock did not move (a frozen test clock): there is no interval to divide by.
            stats = raw with { RateIntervalSeconds = 0 };
        }
        else
        {
            double cpus = Math.Max(1, raw.CpuCount);
            double pausePerSecond = Rate(current.PauseMs - baseline.PauseMs, seconds);
            stats = raw with
            {
                CpuUsagePercent = Math.Min(100, Rate(current.CpuSeconds - baseline.CpuSeconds, seconds) / cpus * 100),
                AllocBytesPerSecond = Rate(current.Allocated - baseline.Allocated, seconds),
                GcPerSecond = Rate(current.Collections - baseline.Collections, seconds),
                GcPausePerSecond = pausePerSecond,
                GcPausePercent = Math.Min(100, pausePerSecond / 10),
                RateIntervalSeconds = seconds,
            };
        }

        RateSample newest = _ring[(_oldest + _count - 1) % Capacity];
        if (now - newest.Timestamp >= _intervalTicks / 4)
        {
            Add(current);
        }

        return stats;
    }

    private RateSample Baseline(long now)
    {
        // Newest sample at least one interval old; failing that the oldest we have.
        for (int i = _count - 1; i >= 0; i--)
        {
            RateSample sample = _ring[(_oldest + i) % Capacity];
            if (now - sample.Timestamp >= _intervalTicks)
            {
                return sample;
            }
        }

        return _ring[_oldest];
    }

    private void Add(RateSample sample)
    {
        if (_count == Capacity)
        {
            _oldest = (_oldest + 1) % Capacity;
            _count--;
        }

        _ring[(_oldest + _count) % Capacity] = sample;
        _count++;
    }

    private static double Rate(double delta, double seconds)
    {
        double rate = delta / seconds;
        return double.IsFinite(rate) && rate > 0 ? rate : 0;
    }

    private long ToTimestampTicks(TimeSpan span) =>
        (long)(span.TotalSeconds * _time.TimestampFrequency);

    private readonly record struct RateSample(long Timestamp, double CpuSeconds, long Allocated, int Collections, double PauseMs);
}
