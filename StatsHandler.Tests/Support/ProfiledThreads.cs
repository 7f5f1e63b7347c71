using System.Runtime.CompilerServices;

namespace StatsHandler.Tests.Support;

/// <summary>
/// Threads doing something known in a named method, for the profiles to find: one spinning on the CPU, one blocked in a
/// wait. Each runs until disposed; starting returns once the thread is inside its method.
/// </summary>
internal sealed class ProfiledThreads : IDisposable
{
    // No spin phase: a blocked thread goes straight to its wait, so "in WaitSleepJoin" means blocked, not a Sleep(0)
    // between spins (which a loaded machine stretches, and which the sampler sees as running managed code).
    private readonly ManualResetEventSlim _release = new(initialState: false, spinCount: 0);
    private readonly ManualResetEventSlim _inside = new();
    private readonly Thread _thread;

    private ProfiledThreads(string name, Action<ManualResetEventSlim, ManualResetEventSlim> body, bool blocks)
    {
        _thread = new Thread(() => body(_inside, _release)) { Name = name, IsBackground = true };
        _thread.Start();
        _inside.Wait(TimeSpan.FromSeconds(10)).Should().BeTrue($"thread {name} enters its method");
        if (blocks)
        {
            // Wait until the thread really sleeps in the wait, not merely entered the method.
            SpinWait.SpinUntil(() => (_thread.ThreadState & ThreadState.WaitSleepJoin) != 0, TimeSpan.FromSeconds(10))
                .Should().BeTrue($"thread {name} blocks in its wait");
        }
    }

    /// <summary>A thread burning CPU in <see cref="SpinInKnownMethod"/> until disposed.</summary>
    public static ProfiledThreads Spinning() => new("cpu-spinner", (inside, release) => SpinInKnownMethod(inside, release), blocks: false);

    /// <summary>A thread blocked in <see cref="BlockInKnownMethod"/> (a <see cref="ManualResetEventSlim"/> wait) until disposed.</summary>
    public static ProfiledThreads Blocked() => new("blocked-probe", (inside, release) => BlockInKnownMethod(inside, release), blocks: true);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static long SpinInKnownMethod(ManualResetEventSlim inside, ManualResetEventSlim release)
    {
        inside.Set();
        long turns = 0;
        while (!release.IsSet)
        {
            turns++;
        }

        return turns;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void BlockInKnownMethod(ManualResetEventSlim inside, ManualResetEventSlim release)
    {
        inside.Set();
        release.Wait();
    }

    public void Dispose()
    {
        _release.Set();
        _thread.Join(TimeSpan.FromSeconds(10)).Should().BeTrue("the thread leaves its method once released");
        _release.Dispose();
        _inside.Dispose();
    }
}
