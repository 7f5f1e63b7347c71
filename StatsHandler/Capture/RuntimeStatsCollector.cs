namespace StatsHandler;

/// <summary>
/// Takes snapshots of the process's runtime statistics, with rates computed against its own history, for code
/// that wants the numbers without HTTP (the Go original's <c>GetStats</c>).
/// </summary>
/// <remarks>
/// Each collector keeps its own history, so two collectors (or a collector and a server) never steal each other's
/// deltas. Its exception count starts when its probe is created: its own, at its creation; or a source's, when the
/// source's first handler or collector was created. Thread-safe. Dispose it to stop counting.
/// </remarks>
public sealed class RuntimeStatsCollector : IDisposable
{
    /// <summary>The rate interval used when none is given: one second, like dotnet-counters.</summary>
    public static readonly TimeSpan DefaultRateInterval = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly IRuntimeProbe _probe;
    private readonly StatsSampler _sampler;
    private readonly TimeProvider _time;
    private bool _disposed;

    /// <summary>Creates a collector.</summary>
    /// <param name="timeProvider">The clock for timestamps and rates; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="rateInterval">The interval rates cover; <see cref="DefaultRateInterval"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rateInterval"/> is not between 1 ms and 1 hour.</exception>
    public RuntimeStatsCollector(TimeProvider? timeProvider = null, TimeSpan? rateInterval = null)
        : this(timeProvider, rateInterval, new RuntimeProbe())
    {
    }

    /// <summary>
    /// Creates a collector that reads <paramref name="source"/>'s runtime probe, the one its handlers read, so its counts
    /// (<see cref="RuntimeStats.ExceptionCount"/> among them) agree with theirs: <c>new RuntimeStatsCollector(server.Source)</c>.
    /// It keeps its own rate history; disposing it leaves the source's probe open.
    /// </summary>
    /// <param name="source">The source whose probe to read.</param>
    /// <param name="timeProvider">The clock for timestamps and rates; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="rateInterval">The interval rates cover; <see cref="DefaultRateInterval"/> when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rateInterval"/> is not between 1 ms and 1 hour.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="source"/> has been disposed.</exception>
    public RuntimeStatsCollector(StatsSource source, TimeProvider? timeProvider = null, TimeSpan? rateInterval = null)
        : this(timeProvider, rateInterval, (source ?? throw new ArgumentNullException(nameof(source))).Probe())
    {
    }

    internal RuntimeStatsCollector(TimeProvider? timeProvider, TimeSpan? rateInterval, IRuntimeProbe probe)
    {
        TimeSpan interval = rateInterval ?? DefaultRateInterval;
        if (interval < TimeSpan.FromMilliseconds(1) || interval > TimeSpan.FromHours(1))
        {
            probe.Dispose();
            throw new ArgumentOutOfRangeException(
                nameof(rateInterval),
                interval,
                $"Rate interval {interval} must be between 1 ms and 1 hour, for example TimeSpan.FromSeconds(1).");
        }

        _probe = probe;
        _time = timeProvider ?? TimeProvider.System;
        RateInterval = interval;
        _sampler = new StatsSampler(_time, interval, probe.ProcessStartTime);
    }

    /// <summary>The interval the rates of each snapshot cover.</summary>
    public TimeSpan RateInterval { get; }

    /// <summary>Takes a snapshot now.</summary>
    /// <exception cref="ObjectDisposedException">The collector has been disposed.</exception>
    public RuntimeStats Capture()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            RuntimeStats raw = _probe.Read(_time.GetUtcNow());
            return _sampler.Sample(in raw);
        }
    }

    /// <summary>Stops counting exceptions and releases the handles the collector keeps open. Idempotent.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _probe.Dispose();
        }
    }
}
