namespace StatsHandler.Tests.Support;

/// <summary>Waits for a condition by probing it every 100 ms, within a bound: no fixed sleeps.</summary>
internal static class Poll
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Probes until <paramref name="done"/> holds and returns that value; throws <see cref="TimeoutException"/> naming
    /// <paramref name="what"/> and the last value seen when <paramref name="bound"/> passes first.
    /// </summary>
    public static async Task<T> UntilAsync<T>(
        Func<CancellationToken, Task<T>> probe,
        Func<T, bool> done,
        TimeSpan bound,
        string what,
        CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(bound);
        using var timer = new PeriodicTimer(Interval);
        T last = default!;
        bool probed = false;
        try
        {
            do
            {
                last = await probe(cts.Token);
                probed = true;
                if (done(last))
                {
                    return last;
                }
            }
            while (await timer.WaitForNextTickAsync(cts.Token));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The bound passed: reported below with the last value.
        }

        throw new TimeoutException(
            $"Waited {bound.TotalSeconds:0.#} s for {what}; last value: {(probed ? Describe(last) : "(no probe finished)")}.");
    }

    private static string Describe<T>(T value) => value switch
    {
        null => "null",
        System.Text.Json.JsonElement e => e.GetRawText(),
        System.Collections.IEnumerable items and not string => "[" + string.Join(", ", items.Cast<object?>()) + "]",
        _ => value.ToString() ?? "",
    };
}
