using System.Runtime.CompilerServices;

/// <summary>
/// Keeps one thread blocked in a method of a known name (<c>--busy</c>), so that the demo's thread stacks
/// (<c>/debug/pprof/threads</c>, <c>dotnet-stack report -p PID</c>) show it waiting there.
/// </summary>
internal static class Blocked
{
    /// <summary>Starts the waiting thread, named <c>demo-blocked</c>; it ends when <paramref name="stop"/> is cancelled.</summary>
    public static Thread Start(CancellationToken stop)
    {
        var thread = new Thread(() => Wait(stop)) { IsBackground = true, Name = "demo-blocked" };
        thread.Start();
        return thread;
    }

    /// <summary>Blocks until <paramref name="stop"/> is cancelled.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Wait(CancellationToken stop) => stop.WaitHandle.WaitOne();
}
