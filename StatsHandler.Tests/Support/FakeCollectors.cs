using System.Collections.Concurrent;
using System.Text.Json;

namespace StatsHandler.Tests.Support;

/// <summary>
/// Collectors for the profile routes that open no session: each records what it was asked, and either answers at once
/// with fixed content or (when <see cref="Block"/> is set) waits until its token is cancelled or its time is up, so
/// the routes' gate, stop and disconnect handling can be tested without the runtime's profiler.
/// </summary>
internal sealed class FakeCollectors
{
    /// <summary>The CPU profile in the contract's JSON form: two stacks, Busy.Spin on top of Main.</summary>
    public const string CpuJson =
        "{\"seconds\":10,\"samples\":40,\"period_ns\":1000000," +
        "\"functions\":[{\"name\":\"Program.Main\",\"module\":\"Demo\"},{\"name\":\"Busy.Spin\",\"module\":\"Demo\"},{\"name\":\"Blocked.Wait\",\"module\":\"Demo\"}]," +
        "\"stacks\":[{\"frames\":[0,1],\"count\":30},{\"frames\":[0,2],\"count\":10}]}";

    public static readonly byte[] CpuPprof = [0x1f, 0x8b, 0x08, 0x00, 1, 2, 3];
    public static readonly byte[] HeapPprof = [0x1f, 0x8b, 0x08, 0x00, 4, 5, 6];

    private readonly ConcurrentQueue<string> _calls = new();
    private TaskCompletionSource _started = NewSignal();
    private TaskCompletionSource _release = NewSignal();
    private TaskCompletionSource<bool> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// When true, a collection waits for its time (CPU), for its token or for <see cref="Release"/> instead of answering at
    /// once.
    /// </summary>
    public bool Block { get; set; }

    /// <summary>What each collection was asked, in order: <c>cpu 10s</c>, <c>threads</c>, <c>heap</c>.</summary>
    public string[] Calls => [.. _calls];

    /// <summary>Completes when the next collection starts.</summary>
    public Task Started => _started.Task;

    /// <summary>Completes when that collection ends: true when its token ended it, false when it ran its course.</summary>
    public Task<bool> Ended => _ended.Task;

    public ProfileCollectors Collectors => new()
    {
        Cpu = (duration, cancel) => Run($"cpu {duration.TotalSeconds:0}s", duration, new ProfileResult(w => JsonDocument.Parse(CpuJson).WriteTo(w), () => CpuPprof), cancel),
        Threads = cancel => Run("threads", Timeout.InfiniteTimeSpan, new ProfileResult(
            w => { w.WriteStartObject(); w.WriteNumber("threads", 1); w.WriteEndObject(); }, writeText: t => t.WriteLine("thread 1 \"main\"\n  at Blocked.Wait")), cancel),
        Heap = cancel => Run("heap", Timeout.InfiniteTimeSpan, new ProfileResult(
            w => { w.WriteStartObject(); w.WriteNumber("objects", 10000); w.WriteEndObject(); }, () => HeapPprof, t => t.WriteLine("10000 240000 Demo.Item")), cancel),
    };

    /// <summary>Lets a blocked collection answer now, as if its time were up.</summary>
    public void Release() => _release.TrySetResult();

    /// <summary>Gets ready for the next collection's signals.</summary>
    public void Reset()
    {
        _release = NewSignal();
        _started = NewSignal();
        _ended = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private ProfileResult Run(string call, TimeSpan length, ProfileResult result, CancellationToken cancel)
    {
        _calls.Enqueue(call);
        _started.TrySetResult();
        if (!Block)
        {
            _ended.TrySetResult(false);
            return result;
        }

        bool cancelled = false;
        try
        {
            _release.Task.Wait((int)length.TotalMilliseconds, cancel);
        }
        catch (OperationCanceledException)
        {
            cancelled = true;
        }

        _ended.TrySetResult(cancelled);
        cancel.ThrowIfCancellationRequested();
        return result;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
