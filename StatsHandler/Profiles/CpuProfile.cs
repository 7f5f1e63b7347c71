using System.Text.Json;

namespace StatsHandler;

/// <summary>
/// A CPU profile of this process: the sample profiler run for a while on the process's own diagnostic port, each sample
/// of a thread that was running managed code counted as one period of CPU, its stack resolved to
/// <c>Namespace.Type.Method</c> and module. Written as pprof (<see cref="ToPprof"/>) for <c>go tool pprof</c>,
/// speedscope and Pyroscope, or as the dashboard's JSON (<see cref="WriteJson"/>).
/// </summary>
/// <remarks>
/// <para>The sample profiler samples every managed thread about each millisecond, waiting or not. Each sample counts for
/// the measured time between two rounds (<see cref="PeriodNanos"/>), so a thread that spins for the whole profile shows
/// about the profile's length of CPU, whatever the sampler's real pace.</para>
/// <para> A sample counts as CPU only when
/// the thread was in managed code (the sample's type is "managed"): threads blocked in a wait, sleeping, or in native
/// code through a P/Invoke are in preemptive mode ("external") and are left out, so idle threads do not bury the busy
/// ones. The cost of that rule: CPU burnt in native code (compression, crypto, the runtime itself) does not show, and a
/// managed thread that is ready but not scheduled counts as if it ran. A sample in managed code whose leaf is one of the
/// runtime's waiting primitives (<see cref="IsWait"/>: the spin phase of a monitor, a semaphore, the thread pool's
/// spin-waiter) counts as waiting too: that is the runtime waiting for work or a signal, and on a loaded machine such
/// spinners are often descheduled yet sampled as running. Consecutive native frames (addresses in no
/// managed method) are collapsed into one <c>[Native Frames]</c> frame.</para>
/// </remarks>
internal sealed class CpuProfile
{
    // The runtime's waiting primitives, whose spin phase runs in managed code: a sample whose leaf is one of them is a
    // thread waiting for work, a lock or a signal, not one doing the app's work.
    private static readonly string[] WaitTypes =
    [
        "System.Threading.LowLevelSpinWaiter.", "System.Threading.SpinWait.", "System.Threading.Monitor.",
        "System.Threading.WaitHandle.", "System.Threading.LowLevelLifoSemaphore.", "System.Threading.ManualResetEventSlim.",
        "System.Threading.SemaphoreSlim.", "System.Threading.LowLevelMonitor.", "System.Threading.LowLevelLock.",
        "System.Threading.Thread.Sleep", "System.Threading.Thread.SpinWait", "System.Threading.Thread.Yield",
    ];

    private readonly List<(string Name, string Module)> _functions = [];
    private readonly List<(ulong[] LeafFirst, long Count)> _stacks = [];

    private CpuProfile(ThreadSampler sampler)
    {
        StartedUtc = sampler.StartedUtc;
        Duration = sampler.SampleSpan > TimeSpan.Zero ? sampler.SampleSpan : sampler.Sampled;
        PeriodNanos = sampler.MeasuredInterval.Ticks * 100;
        WaitingSamples = sampler.ExternalSamples;
        DroppedEvents = sampler.DroppedEvents;
        var functionIds = new Dictionary<(string, string), int>();
        var methodFunctions = new Dictionary<int, int>();
        var merged = new Dictionary<ulong[], int>(StackComparer.Instance);
        for (int stack = 0; stack < sampler.Stacks.Count; stack++)
        {
            int count = sampler.ManagedCounts[stack];
            if (count == 0)
            {
                continue;
            }

            int[] frames = sampler.Frames(stack);
            if (frames.Length > 0 && frames[0] != ThreadSampler.NativeFrames && IsWait(sampler.Methods.Name(frames[0])))
            {
                WaitingSamples += count; // in managed code, but in the runtime's own waiting: spinning before it blocks
                continue;
            }

            ulong[] functions = new ulong[frames.Length];
            for (int i = 0; i < frames.Length; i++)
            {
                if (!methodFunctions.TryGetValue(frames[i], out int function))
                {
                    (string, string) key = frames[i] == ThreadSampler.NativeFrames
                        ? (ThreadSampler.NativeFramesName, "")
                        : (sampler.Methods.Name(frames[i]), sampler.Methods.Module(frames[i]));
                    if (!functionIds.TryGetValue(key, out function))
                    {
                        function = _functions.Count;
                        _functions.Add(key);
                        functionIds.Add(key, function);
                    }

                    methodFunctions.Add(frames[i], function);
                }

                functions[i] = (ulong)function;
            }

            // Stacks of different addresses (another instruction in the same method) are one stack of functions.
            if (merged.TryGetValue(functions, out int index))
            {
                _stacks[index] = (functions, _stacks[index].Count + count);
            }
            else
            {
                merged.Add(functions, _stacks.Count);
                _stacks.Add((functions, count));
            }

            Samples += count;
        }

        _stacks.Sort((a, b) => b.Count.CompareTo(a.Count));
    }

    /// <summary>Whether a leaf method is one of the runtime's waiting primitives (<c>Monitor.Wait</c>, <c>SpinWait</c>, <c>LowLevelLifoSemaphore</c>, ...).</summary>
    internal static bool IsWait(string method)
    {
        foreach (string prefix in WaitTypes)
        {
            if (method.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The time between two samples of a thread in nanoseconds, as measured in this profile (nominally 1 ms; more in
    /// practice, see <see cref="ThreadSampler.MeasuredInterval"/>): each sample stands for this much CPU.
    /// </summary>
    public long PeriodNanos { get; }

    /// <summary>When sampling started (UTC).</summary>
    public DateTime StartedUtc { get; }

    /// <summary>How long it sampled: from the first sample to the last (shorter than asked when cancelled; a little longer than asked, as sampling goes on while the session stops).</summary>
    public TimeSpan Duration { get; }

    /// <summary>How long it sampled, in whole seconds (rounded).</summary>
    public int Seconds => (int)Math.Round(Duration.TotalSeconds);

    /// <summary>Samples of threads running managed code: the profile's CPU samples.</summary>
    public long Samples { get; }

    /// <summary>Samples of threads outside managed code (waiting or in native code) or spinning in the runtime's wait primitives, left out of the profile.</summary>
    public long WaitingSamples { get; private set; }

    /// <summary>Events the runtime dropped (its buffer full): samples missing, or frames left unnamed; 0 normally.</summary>
    public long DroppedEvents { get; }

    /// <summary>The profile's functions: name (<c>Namespace.Type.Method</c>) and module.</summary>
    public IReadOnlyList<(string Name, string Module)> Functions => _functions;

    /// <summary>
    /// Samples this process for <paramref name="duration"/>, or until <paramref name="cancel"/> fires (then the profile
    /// covers the time until then), and resolves the stacks to methods. Blocks the calling thread for the duration and
    /// the rundown after it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="duration"/> is not positive.</exception>
    /// <exception cref="IOException">The diagnostic port is off or missing, or refused the session; the message says why.</exception>
    public static CpuProfile Collect(TimeSpan duration, CancellationToken cancel)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        var sampler = new ThreadSampler();
        sampler.Record(duration, cancel);
        return new CpuProfile(sampler);
    }

    /// <summary>The profile as gzipped pprof: sample type <c>cpu</c>/<c>nanoseconds</c>, one location per function, one mapping per module.</summary>
    public byte[] ToPprof()
    {
        var profile = new PprofProfile(("cpu", "nanoseconds"));
        profile.SetPeriod("cpu", "nanoseconds", PeriodNanos);
        profile.TimeNanos = (StartedUtc - DateTime.UnixEpoch).Ticks * 100;
        profile.DurationNanos = Duration.Ticks * 100;
        profile.AddComment($"{Samples} samples of threads running managed code; {WaitingSamples} samples of threads waiting (outside managed code, or in the runtime's wait primitives) are not counted");
        // pprof takes the first mapping for the program's own file ("File:" in go tool pprof): the entry assembly.
        if (System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name is { Length: > 0 } program)
        {
            profile.Mapping(program);
        }

        if (DroppedEvents > 0)
        {
            profile.AddComment($"{DroppedEvents} events dropped by the runtime (its buffer was full): some samples are missing or frames unnamed");
        }

        ulong[] locations = new ulong[_functions.Count];
        for (int i = 0; i < _functions.Count; i++)
        {
            (string name, string module) = _functions[i];
            locations[i] = profile.Location(profile.Function(name), module.Length > 0 ? profile.Mapping(module) : 0);
        }

        var stack = new List<ulong>();
        foreach ((ulong[] leafFirst, long count) in _stacks)
        {
            stack.Clear();
            foreach (ulong function in leafFirst)
            {
                stack.Add(locations[function]);
            }

            profile.AddSample(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(stack), count * PeriodNanos);
        }

        return profile.ToGzip();
    }

    /// <summary>
    /// Writes the dashboard's form: <c>{"seconds","samples","waiting_samples","period_ns","dropped_events","functions":[{"name","module"}],
    /// "stacks":[{"frames":[...],"count"}]}</c>, frames indexing <c>functions</c> root first, stacks by count, largest first.
    /// </summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject();
        w.WriteNumber("seconds", Seconds);
        w.WriteNumber("samples", Samples);
        w.WriteNumber("waiting_samples", WaitingSamples);
        w.WriteNumber("period_ns", PeriodNanos);
        w.WriteNumber("dropped_events", DroppedEvents);
        w.WriteStartArray("functions");
        foreach ((string name, string module) in _functions)
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            w.WriteString("module", module);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("stacks");
        foreach ((ulong[] leafFirst, long count) in _stacks)
        {
            w.WriteStartObject();
            w.WriteStartArray("frames");
            for (int i = leafFirst.Length - 1; i >= 0; i--)
            {
                w.WriteNumberValue(leafFirst[i]);
            }

            w.WriteEndArray();
            w.WriteNumber("count", count);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }
}
