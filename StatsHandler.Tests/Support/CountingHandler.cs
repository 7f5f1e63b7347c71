using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace StatsHandler.Tests.Support;

/// <summary>Wraps a handler and records when each request arrived and how many ran at once.</summary>
internal sealed class CountingHandler(IStatsHandler inner) : IStatsHandler
{
    private readonly ConcurrentQueue<TimeSpan> _arrivals = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _inFlight;
    private int _maxInFlight;

    public int Count => _arrivals.Count;

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    /// <summary>Arrival times since the handler was created, in order.</summary>
    public TimeSpan[] Arrivals => [.. _arrivals];

    public TimeSpan Now => _clock.Elapsed;

    public async Task ServeHttpAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        _arrivals.Enqueue(_clock.Elapsed);
        int now = Interlocked.Increment(ref _inFlight);
        int max;
        while (now > (max = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, max) != max)
        {
        }

        try
        {
            await inner.ServeHttpAsync(context, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}
