using System.Globalization;
using System.Text.Json;

namespace StatsHandler;

/// <summary>
/// Every managed thread's stack, taken from inside the process by a short sample-profiler session: each thread's last
/// sample, its frames leaf first as <c>Module!Namespace.Type.Method(parameters)</c>, written as text in the form of
/// <c>dotnet-stack report</c> (so the two compare line by line) or as JSON.
/// </summary>
/// <remarks>
/// The session runs until some thread has had two samples (the sampler visits every managed thread once per round, so
/// every thread has had at least one), bounded by <see cref="MaxSampling"/>; then the runtime's rundown names the
/// methods. Threads are named from <c>/proc/self/task/{tid}/comm</c> on Linux (the runtime gives the OS the first 15
/// characters of <c>Thread.Name</c>, and names its own: <c>.NET TP Worker</c>, ...); the runtime's events carry no
/// names, so elsewhere threads have none.
/// </remarks>
internal sealed class ThreadStacks
{
    /// <summary>The longest the sampling may run before the stacks are taken with what came.</summary>
    public static readonly TimeSpan MaxSampling = TimeSpan.FromSeconds(5);

    private readonly List<StackThread> _threads = [];

    private ThreadStacks(ThreadSampler sampler)
    {
        Sampled = sampler.Sampled;
        Took = sampler.Took;
        Methods = sampler.Methods.Count;
        ReadError = sampler.ReadError;
        DroppedEvents = sampler.DroppedEvents;
        foreach (ThreadSampler.SampledThread thread in sampler.Threads.Values.OrderBy(t => t.OsThreadId))
        {
            // A thread outside managed code is in native code above its managed frames: dotnet-stack (TraceEvent) shows that
            // as a leading [Native Frames], and so does this, so the two read alike.
            var frames = new List<StackFrame>();
            if (thread.LastType != ThreadSampler.Managed)
            {
                frames.Add(new StackFrame(ThreadSampler.NativeFramesName, "", ""));
            }

            int[] methods = thread.LastStack >= 0 ? sampler.Frames(thread.LastStack) : [];
            foreach (int method in methods)
            {
                if (method == ThreadSampler.NativeFrames && frames.Count > 0 && frames[^1].Name == ThreadSampler.NativeFramesName)
                {
                    continue;
                }

                frames.Add(method == ThreadSampler.NativeFrames
                    ? new StackFrame(ThreadSampler.NativeFramesName, "", "")
                    : new StackFrame(sampler.Methods.Name(method), sampler.Methods.Module(method), sampler.Methods.Parameters(method)));
            }

            _threads.Add(new StackThread(thread.OsThreadId, NameOf(thread.OsThreadId), thread.LastType == ThreadSampler.Managed, frames));
        }
    }

    /// <summary>How long the sampler ran.</summary>
    public TimeSpan Sampled { get; }

    /// <summary>How long the whole collection took: session start, sampling, stop and rundown.</summary>
    public TimeSpan Took { get; }

    /// <summary>How many methods the session named.</summary>
    public int Methods { get; }

    /// <summary>Events the runtime dropped (its buffer full), which leave frames unnamed; 0 normally.</summary>
    public long DroppedEvents { get; }

    /// <summary>What ended the session's stream early, or null.</summary>
    public Exception? ReadError { get; }

    /// <summary>The threads by OS thread id, each with its last stack.</summary>
    public IReadOnlyList<StackThread> Threads => _threads;

    /// <summary>
    /// Takes every managed thread's stack: a sampling session until each thread has a sample (or
    /// <paramref name="cancel"/> fires, or <see cref="MaxSampling"/> passes), then the rundown. Blocks the calling thread
    /// for about a second at most on an idle machine.
    /// </summary>
    /// <exception cref="IOException">The diagnostic port is off or missing, or refused the session; the message says why.</exception>
    public static ThreadStacks Collect(CancellationToken cancel)
    {
        var sampler = new ThreadSampler(stopAfterRounds: 2);
        sampler.Record(MaxSampling, cancel);
        return new ThreadStacks(sampler);
    }

    /// <summary>
    /// Writes the stacks as <c>dotnet-stack report</c> does: <c>Thread (0xTID):</c> (here followed by the thread's name
    /// in quotes where known), then one frame per line, leaf first, a blank line between threads. A thread that was
    /// outside managed code (waiting, or in native code) starts with <c>[Native Frames]</c>, as in dotnet-stack.
    /// </summary>
    public void WriteText(TextWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        foreach (StackThread thread in _threads)
        {
            w.Write(string.Create(CultureInfo.InvariantCulture, $"Thread (0x{thread.OsThreadId:X}):"));
            if (thread.Name is not null)
            {
                w.Write($" \"{thread.Name}\"");
            }

            w.WriteLine();
            if (thread.Frames.Count == 0)
            {
                w.WriteLine("  (no managed frames)");
            }

            foreach (StackFrame frame in thread.Frames)
            {
                w.Write("  ");
                w.WriteLine(frame.Module.Length > 0 ? $"{frame.Module}!{frame.Name}{frame.Parameters}" : $"{frame.Name}{frame.Parameters}");
            }

            w.WriteLine();
        }
    }

    /// <summary>
    /// Writes <c>{"sampled_ms","took_ms","dropped_events","threads":[{"id","id_hex","name","running","frames":[{"name","module","parameters"}]}]}</c>,
    /// frames leaf first; <c>name</c> is null where the thread has none.
    /// </summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject();
        w.WriteNumber("sampled_ms", Math.Round(Sampled.TotalMilliseconds, 1));
        w.WriteNumber("took_ms", Math.Round(Took.TotalMilliseconds, 1));
        w.WriteNumber("dropped_events", DroppedEvents);
        w.WriteStartArray("threads");
        foreach (StackThread thread in _threads)
        {
            w.WriteStartObject();
            w.WriteNumber("id", thread.OsThreadId);
            w.WriteString("id_hex", $"0x{thread.OsThreadId:X}");
            if (thread.Name is null)
            {
                w.WriteNull("name");
            }
            else
            {
                w.WriteString("name", thread.Name);
            }

            w.WriteBoolean("running", thread.Running);
            w.WriteStartArray("frames");
            foreach (StackFrame frame in thread.Frames)
            {
                w.WriteStartObject();
                w.WriteString("name", frame.Name);
                w.WriteString("module", frame.Module);
                w.WriteString("parameters", frame.Parameters);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The OS's name for a thread of this process (Linux: <c>/proc/self/task/{tid}/comm</c>), or null.</summary>
    private static string? NameOf(long osThreadId)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            string name = File.ReadAllText($"/proc/self/task/{osThreadId.ToString(CultureInfo.InvariantCulture)}/comm").TrimEnd('\n');
            return name.Length > 0 ? name : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // the thread has ended since its sample
        }
    }

    /// <summary>One thread: its OS id, its name where known, whether its last sample found it in managed code, its frames leaf first.</summary>
    internal sealed record StackThread(long OsThreadId, string? Name, bool Running, IReadOnlyList<StackFrame> Frames);

    /// <summary>One frame: <c>Namespace.Type.Method</c>, its module and parameter list (empty for native frames).</summary>
    internal sealed record StackFrame(string Name, string Module, string Parameters);
}
