namespace StatsHandler.Tests.Support;

/// <summary>A probe whose counters the test sets, so rates can be checked exactly.</summary>
internal sealed class FakeProbe : IRuntimeProbe
{
    public FakeProbe(DateTimeOffset processStart) => ProcessStartTime = processStart;

    public DateTimeOffset ProcessStartTime { get; }

    public double CpuSeconds { get; set; }

    public long Allocated { get; set; }

    public int Collections { get; set; }

    public double PauseMs { get; set; }

    public int CpuCount { get; set; } = 2;

    public bool Disposed { get; private set; }

    public RuntimeStats Read(DateTimeOffset now) => new()
    {
        Time = now,
        ProcessStartTime = ProcessStartTime,
        UptimeSeconds = Math.Max(0, (now - ProcessStartTime).TotalSeconds),
        CpuCount = CpuCount,
        CpuUserSeconds = CpuSeconds,
        MemoryTotalAllocBytes = Allocated,
        GcCount = Collections,
        GcGen0Count = Collections,
        GcPauseTotalMs = PauseMs,
    };

    public void Dispose() => Disposed = true;
}
