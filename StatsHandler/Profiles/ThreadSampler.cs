using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace StatsHandler;

/// <summary>
/// Records the sample profiler on the process's own diagnostic port: every managed thread's stack about once a
/// millisecond, each tagged with whether the thread was running managed code or was outside it (waiting, or in native
/// code), plus the method and module events that name the stacks' addresses. One instance is one session: run it with
/// <see cref="Record"/>, then read the stacks it kept. Per sample it allocates nothing: a stack is copied only the
/// first time its exact addresses are seen.
/// </summary>
/// <remarks>
/// The <c>ThreadSample</c> event (provider <c>Microsoft-DotNETCore-SampleProfiler</c>, id 0) carries a 4-byte type: 1
/// when the thread was in preemptive mode (outside managed code: blocked in a wait, sleeping, in a P/Invoke or the
/// runtime), 2 when it was in cooperative mode (running managed code). Its header's thread is the sampled thread (the
/// OS thread id), its stack id the sampled stack, leaf first.
/// </remarks>
internal sealed class ThreadSampler : INetTraceSink
{
    /// <summary>The sample type of a thread outside managed code.</summary>
    public const int External = 1;

    /// <summary>The sample type of a thread running managed code.</summary>
    public const int Managed = 2;

    /// <summary>The nominal interval of the sample profiler.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(1);

    private static readonly TimeSpan ConnectBound = TimeSpan.FromSeconds(5);

    /// <summary>The frame index that stands for consecutive native frames (addresses in no managed method).</summary>
    public const int NativeFrames = -1;

    /// <summary>What a run of native frames is called, as dotnet-stack calls it.</summary>
    public const string NativeFramesName = "[Native Frames]";

    private const int Informational = 4;
    private const ulong LoaderKeyword = 0x8, JitKeyword = 0x10;

    /// <summary>
    /// The session: the sample profiler, the runtime's method and module loads (only those two events, where the runtime
    /// filters by id), and the rundown of every method at the end. No stack walk for the runtime's own events: the
    /// sampler hands its stacks in itself.
    /// </summary>
    internal static readonly EventPipeSessionOptions Options = new(
        [
            new EventPipeProvider(EventPipeProvider.SampleProfiler, 0, Informational),
            new EventPipeProvider(EventPipeProvider.Runtime, LoaderKeyword | JitKeyword, Informational, EventIds: [MethodTable.MethodLoadVerbose, MethodTable.ModuleLoad]),
        ],
        EventPipeSessionOptions.DefaultRundown,
        StackWalk: false,

        // A cap the runtime fills only as needed (dotnet-trace's default too): the rundown writes every method's name
        // at once, faster than the reader takes it on a busy machine, and with 16 MB a process of 30,000 methods lost
        // part of it.
        BufferMegabytes: 256);

    private readonly Dictionary<int, Kind> _kinds = [];
    private readonly Dictionary<int, int> _stackIds = [];
    private readonly Dictionary<ulong[], int> _stackIndex = new(StackComparer.Instance);
    private readonly Dictionary<ulong[], int>.AlternateLookup<ReadOnlySpan<ulong>> _stackLookup;
    private readonly List<ulong[]> _stacks = [];
    private readonly List<int> _managedCounts = [];
    private readonly List<int> _externalCounts = [];
    private readonly Dictionary<long, SampledThread> _threads = [];
    private readonly Dictionary<long, int> _sequences = [];
    private readonly int _stopAfterRounds;
    private readonly TaskCompletionSource _enough = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pointerSize = 8;
    private long _ticksPerSecond;

    /// <summary>A sampler that runs its whole time, or, with <paramref name="stopAfterRounds"/> above 0, only until some thread has that many samples.</summary>
    public ThreadSampler(int stopAfterRounds = 0)
    {
        _stopAfterRounds = stopAfterRounds;
        _stackLookup = _stackIndex.GetAlternateLookup<ReadOnlySpan<ulong>>();
    }

    /// <summary>The methods and modules the session named.</summary>
    public MethodTable Methods { get; } = new();

    /// <summary>The distinct stacks seen, as instruction pointers leaf first; samples refer to them by index.</summary>
    public IReadOnlyList<ulong[]> Stacks => _stacks;

    /// <summary>Per stack index: how many samples found it running managed code.</summary>
    public IReadOnlyList<int> ManagedCounts => _managedCounts;

    /// <summary>Per stack index: how many samples found it outside managed code.</summary>
    public IReadOnlyList<int> ExternalCounts => _externalCounts;

    /// <summary>Every sampled thread by OS thread id, with its last sample.</summary>
    public IReadOnlyDictionary<long, SampledThread> Threads => _threads;

    /// <summary>Samples of threads running managed code.</summary>
    public long ManagedSamples { get; private set; }

    /// <summary>Samples of threads outside managed code.</summary>
    public long ExternalSamples { get; private set; }

    /// <summary>
    /// The time between two samples of one thread as measured (the most-sampled thread's span over its samples), or the
    /// nominal <see cref="Interval"/> when no thread had two: longer than nominal, because every round suspends the
    /// runtime and walks every thread, and the sampler's sleep is at least a millisecond.
    /// </summary>
    public TimeSpan MeasuredInterval
    {
        get
        {
            SampledThread? most = _threads.Values.MaxBy(t => t.Samples);
            if (most is null || most.Samples < 2 || _ticksPerSecond <= 0 || most.LastTimestamp <= most.FirstTimestamp)
            {
                return Interval;
            }

            double seconds = (double)(most.LastTimestamp - most.FirstTimestamp) / _ticksPerSecond / (most.Samples - 1);
            return TimeSpan.FromTicks(Math.Max(1, (long)(seconds * TimeSpan.TicksPerSecond)));
        }
    }

    /// <summary>The span from the first sample to the last, of the most-sampled thread; zero when it had fewer than two.</summary>
    public TimeSpan SampleSpan
    {
        get
        {
            SampledThread? most = _threads.Values.MaxBy(t => t.Samples);
            return most is null || most.Samples < 2 || _ticksPerSecond <= 0
                ? TimeSpan.Zero
                : TimeSpan.FromSeconds((double)(most.LastTimestamp - most.FirstTimestamp) / _ticksPerSecond);
        }
    }

    /// <summary>
    /// Events the runtime dropped because the session's buffer was full (gaps in a writing thread's sequence numbers):
    /// dropped samples are missing, dropped method events leave frames unnamed (<see cref="NativeFramesName"/>).
    /// </summary>
    public long DroppedEvents { get; private set; }

    /// <summary>What ended the reading early (the stream closed after the drain bound), or null when the stream ended normally.</summary>
    public Exception? ReadError { get; private set; }

    /// <summary>When the session started (UTC).</summary>
    public DateTime StartedUtc { get; private set; }

    /// <summary>How long the session sampled: from its start to the stop request.</summary>
    public TimeSpan Sampled { get; private set; }

    /// <summary>How long the whole recording took: start, sampling, stop, rundown and the stream's end.</summary>
    public TimeSpan Took { get; private set; }

    /// <summary>
    /// Starts a session, samples until <paramref name="duration"/> passes, <paramref name="cancel"/> fires or (with a
    /// round count) every thread has been sampled, then stops it from this thread and reads the stream to its end (within
    /// <see cref="EventPipeSession.DrainBound"/>, then the stream is closed). A cancelled recording returns what it sampled.
    /// </summary>
    /// <exception cref="IOException">The diagnostic port is off or missing, or refused the session; the message says why.</exception>
    /// <exception cref="InvalidDataException">The runtime's stream broke the nettrace format.</exception>
    public void Record(TimeSpan duration, CancellationToken cancel)
    {
        if (DiagnosticPort.Unavailable() is { } why)
        {
            throw new IOException($"Cannot sample threads: {why}.");
        }

        var clock = Stopwatch.StartNew();
        StartedUtc = DateTime.UtcNow;
        using EventPipeSession session = EventPipeSession.Start(Options, ConnectBound);
        Task reading = session.ReadInBackground(this);
        try
        {
            Task.WaitAny([reading, _enough.Task], (int)Math.Min(duration.TotalMilliseconds, int.MaxValue), cancel);
        }
        catch (OperationCanceledException)
        {
            // Cancelled: stop now and keep what was sampled.
        }

        Sampled = clock.Elapsed;

        // Stopped here, never on the reader: the reader keeps draining while the runtime writes its rundown.
        session.StopAndDrain(reading);

        Took = clock.Elapsed;
        ReadError = reading.Exception?.InnerException;
        if (reading.Exception?.InnerException is InvalidDataException invalid)
        {
            throw invalid;
        }

        // An IOException on the reader means the stream was closed after the bound: what came before it is used.
        Methods.Seal();
    }

    /// <inheritdoc />
    public void OnTrace(in NetTraceInfo info)
    {
        _pointerSize = info.PointerSize;
        _ticksPerSecond = info.TicksPerSecond;
    }

    /// <inheritdoc />
    public void OnMetadata(NetTraceMetadata metadata)
    {
        Kind kind = (metadata.Provider, metadata.EventId) switch
        {
            (EventPipeProvider.SampleProfiler, 0) => Kind.Sample,
            (EventPipeProvider.Runtime, MethodTable.MethodLoadVerbose) or (EventPipeProvider.Rundown, MethodTable.MethodDCEndVerbose) => Kind.Method,
            (EventPipeProvider.Runtime, MethodTable.ModuleLoad) or (EventPipeProvider.Rundown, MethodTable.ModuleDCEnd) => Kind.Module,
            _ => Kind.Other,
        };
        _kinds[metadata.Id] = kind;
    }

    /// <inheritdoc />
    public void OnStack(int id, ReadOnlySpan<byte> stack)
    {
        if (_pointerSize == 8)
        {
            _stackIds[id] = Intern(MemoryMarshal.Cast<byte, ulong>(stack));
            return;
        }

        Span<ulong> wide = stack.Length / 4 <= 256 ? stackalloc ulong[stack.Length / 4] : new ulong[stack.Length / 4];
        for (int i = 0; i < wide.Length; i++)
        {
            wide[i] = BinaryPrimitives.ReadUInt32LittleEndian(stack[(i * 4)..]);
        }

        _stackIds[id] = Intern(wide);
    }

    /// <inheritdoc />
    public void OnEvent(in NetTraceEvent header, ReadOnlySpan<byte> payload)
    {
        // Each writing thread numbers its events: a gap is events the runtime dropped (its buffer was full).
        if (_sequences.TryGetValue(header.CaptureThreadId, out int last) && header.SequenceNumber - last > 1)
        {
            DroppedEvents += header.SequenceNumber - last - 1;
        }

        _sequences[header.CaptureThreadId] = header.SequenceNumber;
        switch (_kinds.GetValueOrDefault(header.MetadataId))
        {
            case Kind.Sample:
                OnSample(header, payload.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(payload) : 0);
                break;
            case Kind.Method:
                Methods.AddMethod(payload);
                break;
            case Kind.Module:
                Methods.AddModule(payload);
                break;
            default:
                break;
        }
    }

    private void OnSample(in NetTraceEvent header, int type)
    {
        int stack = header.StackId != 0 && _stackIds.TryGetValue(header.StackId, out int s) ? s : -1;
        if (stack >= 0)
        {
            if (type == Managed)
            {
                _managedCounts[stack]++;
            }
            else
            {
                _externalCounts[stack]++;
            }
        }

        if (type == Managed)
        {
            ManagedSamples++;
        }
        else
        {
            ExternalSamples++;
        }

        if (!_threads.TryGetValue(header.ThreadId, out SampledThread? thread))
        {
            thread = new SampledThread(header.ThreadId);
            _threads.Add(header.ThreadId, thread);
        }

        if (thread.Samples == 0)
        {
            thread.FirstTimestamp = header.Timestamp;
        }

        thread.LastTimestamp = header.Timestamp;
        thread.LastStack = stack;
        thread.LastType = type;
        thread.Samples++;
        if (_stopAfterRounds > 0 && thread.Samples == _stopAfterRounds)
        {
            // The sampler visits every thread once per round, in one thread's buffer, in order: a thread's second
            // sample means every thread alive then has had its first.
            _enough.TrySetResult();
        }
    }

    /// <summary>
    /// The methods of a stack, leaf first, as <see cref="Methods"/> indexes; a run of addresses in no known method (native
    /// code, stubs) becomes one <see cref="NativeFrames"/> entry, as dotnet-stack shows them.
    /// </summary>
    public int[] Frames(int stack)
    {
        ulong[] addresses = _stacks[stack];
        var frames = new List<int>(addresses.Length);
        for (int i = 0; i < addresses.Length; i++)
        {
            // Callers' addresses are return addresses, just past their call: one byte back is inside the caller.
            int method = addresses[i] == 0 ? NativeFrames : Methods.Find(i == 0 ? addresses[i] : addresses[i] - 1);
            if (method < 0 && frames.Count > 0 && frames[^1] == NativeFrames)
            {
                continue;
            }

            frames.Add(method < 0 ? NativeFrames : method);
        }

        return [.. frames];
    }

    private int Intern(ReadOnlySpan<ulong> stack)
    {
        if (_stackLookup.TryGetValue(stack, out int index))
        {
            return index;
        }

        index = _stacks.Count;
        ulong[] copy = stack.ToArray();
        _stacks.Add(copy);
        _managedCounts.Add(0);
        _externalCounts.Add(0);
        _stackIndex.Add(copy, index);
        return index;
    }

    private enum Kind
    {
        Other,
        Sample,
        Method,
        Module,
    }

    /// <summary>One sampled thread: its OS id, its sample count, and its last sample's stack and type.</summary>
    internal sealed class SampledThread(long osThreadId)
    {
        /// <summary>The OS thread id (on Linux the tid, as <c>/proc/self/task</c> and dotnet-stack show it).</summary>
        public long OsThreadId { get; } = osThreadId;

        /// <summary>How many samples the thread had.</summary>
        public int Samples { get; set; }

        /// <summary>Its last sample's stack index, or -1 when that sample had no managed frame.</summary>
        public int LastStack { get; set; } = -1;

        /// <summary>Its last sample's type: <see cref="Managed"/> or <see cref="External"/>.</summary>
        public int LastType { get; set; }

        /// <summary>When its first sample was taken, in the trace's ticks.</summary>
        public long FirstTimestamp { get; set; }

        /// <summary>When its last sample was taken, in the trace's ticks.</summary>
        public long LastTimestamp { get; set; }
    }
}
