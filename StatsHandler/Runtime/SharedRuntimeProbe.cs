namespace StatsHandler;

/// <summary>
/// One runtime probe read by every handler of a registry, so two endpoints never disagree on a counter (each handler
/// still keeps its own rate history). Serialises reads; handlers' <see cref="Dispose"/> leaves it to its owner.
/// </summary>
internal sealed class SharedRuntimeProbe : IRuntimeProbe
{
    private readonly Lock _lock = new();
    private readonly IRuntimeProbe _inner;

    public SharedRuntimeProbe(IRuntimeProbe inner) => _inner = inner;

    public DateTimeOffset ProcessStartTime => _inner.ProcessStartTime;

    public RuntimeStats Read(DateTimeOffset now)
    {
        lock (_lock)
        {
            return _inner.Read(now);
        }
    }

    /// <summary>Does nothing: a collector disposing its probe must not close the one its siblings read.</summary>
    public void Dispose()
    {
    }

    /// <summary>Closes the probe; called by the registry that owns it.</summary>
    public void Release()
    {
        lock (_lock)
        {
            _inner.Dispose();
        }
    }
}
