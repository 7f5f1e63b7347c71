using System.Runtime.CompilerServices;

/// <summary>
/// Keeps one core busy in a method of a known name (<c>--busy</c>), so that a CPU profile of the demo
/// (<c>go tool pprof -top .../debug/pprof/profile?seconds=5</c>) has something to find at its top.
/// </summary>
internal static class Busy
{
    /// <summary>Starts the spinning thread, named <c>demo-busy</c>; it ends when <paramref name="stop"/> is cancelled.</summary>
    public static Thread Start(CancellationToken stop)
    {
        var thread = new Thread(() => Spin(stop)) { IsBackground = true, Name = "demo-busy" };
        thread.Start();
        return thread;
    }

    /// <summary>Spins until <paramref name="stop"/> is cancelled: the work is in this method's own body, so it is the leaf of every sample.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static long Spin(CancellationToken stop)
    {
        long x = 1;
        while (!stop.IsCancellationRequested)
        {
            for (int i = 0; i < 1_000_000; i++)
            {
                x = (x * 6364136223846793005L) + 1442695040888963407L;
            }
        }

        return x;
    }
}
