using System.Diagnostics;
using System.Runtime;
using System.Runtime.InteropServices;

namespace StatsHandler;

/// <summary>Reads the runtime's cumulative counters and gauges; the sampler turns them into rates.</summary>
internal interface IRuntimeProbe : IDisposable
{
    /// <summary>When the process started.</summary>
    DateTimeOffset ProcessStartTime { get; }

    /// <summary>Reads every value that is not a rate. Callers serialise calls.</summary>
    RuntimeStats Read(DateTimeOffset now);
}

/// <summary>
/// The real probe: cheap runtime APIs on every call, expensive ones cached. GC heap figures change only when a
/// collection ends, so <see cref="GC.GetGCMemoryInfo()"/> (which allocates) is called only after one has.
/// </summary>
/// <remarks>
/// A collection's end is seen from the counters (gen0 count, total pause), except a background GC's: its count and
/// its first pause move when it starts, nothing cheap moves when its sweep ends milliseconds to seconds later. So
/// while a gen2 collection may still be running, the probe re-reads at most every <see cref="BackgroundRecheck"/>
/// (about 3 us and 1.2 KB each) until the runtime reports a newer gen2 collection completed.
/// </remarks>
internal sealed class RuntimeProbe : IRuntimeProbe
{
    private const int MaxPauses = 256;

    /// <summary>
    /// How long CPU time, resident memory and the thread count (system calls and <c>/proc</c> reads) are shared by the
    /// requests that arrive meanwhile: a burst of scrapes reads them once, and none sees a figure older than this.
    /// </summary>
    internal static readonly TimeSpan OsFiguresMaxAge = TimeSpan.FromMilliseconds(20);

    /// <summary>How often, at most, a probe asked while a background GC may be running re-reads the GC info.</summary>
    internal static readonly TimeSpan BackgroundRecheck = TimeSpan.FromMilliseconds(10);

    private static readonly GCKind[] PauseKinds = [GCKind.Ephemeral, GCKind.FullBlocking, GCKind.Background];

    private readonly ProcSelf? _procSelf;
    private readonly FileDescriptorProbe _fileDescriptors = new();
    private readonly long _osMaxAgeTicks = (long)(OsFiguresMaxAge.TotalSeconds * Stopwatch.Frequency);
    private readonly string _dotnetVersion = RuntimeInformation.FrameworkDescription;
    private readonly string _os = OsName();
    private readonly string _osDescription = RuntimeInformation.OSDescription;
    private readonly string _arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
    private readonly int _pid = Environment.ProcessId;
    private readonly bool _gcServer = GCSettings.IsServerGC;
    private readonly bool _gcConcurrent = GCConcurrentEnabled();
    private readonly long[] _lastPauseIndex = new long[PauseKinds.Length];
    private long _exceptions;
    private int _assembliesDirty = 1;
    private int _assemblyCount;
    private int _gcInfoCount = -1;
    private TimeSpan _gcInfoPause = TimeSpan.MinValue;
    private int _gen2Settled;
    private DateTimeOffset _gcInfoReadAt = DateTimeOffset.MinValue;
    private GcHeapFigures _heap;
    private double[] _pauses = [];
    private long _osReadAt;
    private Environment.ProcessCpuUsage _cpu;
    private long _resident;
    private int _threads;
    private int _threadCount;
    private long _threadCountReadAt = -1000;
    private bool _disposed;

    public RuntimeProbe()
    {
        _procSelf = ProcSelf.TryOpen();
        ProcessStartTime = ReadProcessStartTime();
        AppDomain.CurrentDomain.FirstChanceException += OnFirstChanceException;
        AppDomain.CurrentDomain.AssemblyLoad += OnAssemblyLoad;
    }

    public DateTimeOffset ProcessStartTime { get; }

    public RuntimeStats Read(DateTimeOffset now)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long timestamp = Stopwatch.GetTimestamp();
        if (_osReadAt == 0 || timestamp - _osReadAt >= _osMaxAgeTicks)
        {
            ReadOsFigures();
            _osReadAt = timestamp;
        }

        Environment.ProcessCpuUsage cpu = _cpu;
        int gen0 = GC.CollectionCount(0);
        TimeSpan pauseTotal = GC.GetTotalPauseDuration();
        int gen2 = GC.CollectionCount(2);
        bool backgroundMayRun = gen2 != _gen2Settled && now - _gcInfoReadAt >= BackgroundRecheck;
        if (gen0 != _gcInfoCount || pauseTotal != _gcInfoPause || backgroundMayRun)
        {
            if (RefreshGcInfo() || !_gcConcurrent)
            {
                // Blocking collections have ended by the time managed code can read their count.
                _gen2Settled = gen2;
            }

            _gcInfoCount = gen0;
            _gcInfoPause = pauseTotal;
            _gcInfoReadAt = now;
        }

        bool hasFds = _fileDescriptors.TryRead(out long openFds, out long maxFds);
        if (Volatile.Read(ref _assembliesDirty) != 0)
        {
            Volatile.Write(ref _assembliesDirty, 0);
            _assemblyCount = AppDomain.CurrentDomain.GetAssemblies().Length;
        }

        return new RuntimeStats
        {
            Time = now,
            DotnetVersion = _dotnetVersion,
            Os = _os,
            OsDescription = _osDescription,
            Arch = _arch,
            CpuCount = Environment.ProcessorCount,
            ProcessId = _pid,
            ProcessStartTime = ProcessStartTime,
            UptimeSeconds = Math.Max(0, (now - ProcessStartTime).TotalSeconds),
            GcServer = _gcServer,
            GcConcurrent = _gcConcurrent,
            GcLatencyMode = LatencyModeName(GCSettings.LatencyMode),
            ThreadCount = _threads,
            ThreadPoolThreadCount = ThreadPool.ThreadCount,
            ThreadPoolQueueLength = ThreadPool.PendingWorkItemCount,
            ThreadPoolCompletedItems = ThreadPool.CompletedWorkItemCount,
            LockContentionCount = Monitor.LockContentionCount,
            TimerCount = Timer.ActiveCount,
            CpuUserSeconds = cpu.UserTime.TotalSeconds,
            CpuSystemSeconds = cpu.PrivilegedTime.TotalSeconds,
            MemoryAllocBytes = GC.GetTotalMemory(forceFullCollection: false),
            MemoryTotalAllocBytes = GC.GetTotalAllocatedBytes(precise: false),
            MemorySysBytes = _resident,
            MemoryCommittedBytes = _heap.Committed,
            MemoryLimitBytes = _heap.Limit,
            MemoryLoadBytes = _heap.Load,
            HeapAllocBytes = _heap.HeapSize,
            HeapFragmentedBytes = _heap.Fragmented,
            HeapGen0Bytes = _heap.Gen0,
            HeapGen1Bytes = _heap.Gen1,
            HeapGen2Bytes = _heap.Gen2,
            HeapLohBytes = _heap.Loh,
            HeapPohBytes = _heap.Poh,
            HeapPromotedBytes = _heap.Promoted,
            HeapPinnedObjects = _heap.Pinned,
            HeapFinalizationPending = _heap.FinalizationPending,
            GcCount = gen0,
            GcGen0Count = gen0,
            GcGen1Count = GC.CollectionCount(1),
            GcGen2Count = gen2,
            GcPauseTotalMs = pauseTotal.TotalMilliseconds,
            GcPauses = _pauses,
            JitMethodCount = JitInfo.GetCompiledMethodCount(currentThread: false),
            JitILBytes = JitInfo.GetCompiledILBytes(currentThread: false),
            JitTimeMs = JitInfo.GetCompilationTime(currentThread: false).TotalMilliseconds,
            AssemblyCount = _assemblyCount,
            ExceptionCount = Interlocked.Read(ref _exceptions),
            HasFileDescriptors = hasFds,
            OpenFileDescriptors = openFds,
            MaxFileDescriptors = maxFds,
        };
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        AppDomain.CurrentDomain.FirstChanceException -= OnFirstChanceException;
        AppDomain.CurrentDomain.AssemblyLoad -= OnAssemblyLoad;
        _procSelf?.Dispose();
        _fileDescriptors.Dispose();
    }

    internal static string LatencyModeName(GCLatencyMode mode) => mode switch
    {
        GCLatencyMode.Batch => "batch",
        GCLatencyMode.Interactive => "interactive",
        GCLatencyMode.LowLatency => "low_latency",
        GCLatencyMode.SustainedLowLatency => "sustained_low_latency",
        GCLatencyMode.NoGCRegion => "no_gc_region",
        _ => "unknown",
    };

    /// <summary>Re-reads the heap figures and new pauses; true when a gen2 collection not seen before has completed.</summary>
    private bool RefreshGcInfo()
    {
        GCMemoryInfo info = GC.GetGCMemoryInfo(GCKind.Any);
        ReadOnlySpan<GCGenerationInfo> generations = info.GenerationInfo;
        _heap = new GcHeapFigures
        {
            Committed = info.TotalCommittedBytes,
            Limit = info.TotalAvailableMemoryBytes,
            Load = info.MemoryLoadBytes,
            HeapSize = info.HeapSizeBytes,
            Fragmented = info.FragmentedBytes,
            Gen0 = generations.Length > 0 ? generations[0].SizeAfterBytes : 0,
            Gen1 = generations.Length > 1 ? generations[1].SizeAfterBytes : 0,
            Gen2 = generations.Length > 2 ? generations[2].SizeAfterBytes : 0,
            Loh = generations.Length > 3 ? generations[3].SizeAfterBytes : 0,
            Poh = generations.Length > 4 ? generations[4].SizeAfterBytes : 0,
            Promoted = info.PromotedBytes,
            Pinned = info.PinnedObjectsCount,
            FinalizationPending = info.FinalizationPendingCount,
        };

        // The runtime remembers only the last collection of each kind; collect the ones not seen yet.
        Span<(long Index, double PauseMs)> seen = stackalloc (long, double)[PauseKinds.Length];
        int count = 0;
        bool gen2Completed = false;
        for (int i = 0; i < PauseKinds.Length; i++)
        {
            GCMemoryInfo last = GC.GetGCMemoryInfo(PauseKinds[i]);
            if (last.Index > _lastPauseIndex[i])
            {
                double ms = 0;
                foreach (TimeSpan pause in last.PauseDurations)
                {
                    ms += pause.TotalMilliseconds;
                }

                // A record without a pause is not a pause (a background GC's record read before its pauses were
                // filled in): leave it unseen, so it is listed once it has them.
                if (ms <= 0)
                {
                    continue;
                }

                _lastPauseIndex[i] = last.Index;
                gen2Completed |= PauseKinds[i] != GCKind.Ephemeral;
                seen[count++] = (last.Index, ms);
            }
        }

        if (count == 0)
        {
            return gen2Completed;
        }

        seen = seen[..count];
        seen.Sort(static (a, b) => b.Index.CompareTo(a.Index));
        int keep = Math.Min(MaxPauses, count + _pauses.Length);
        var pauses = new double[keep];
        for (int i = 0; i < keep; i++)
        {
            pauses[i] = i < count ? seen[i].PauseMs : _pauses[i - count];
        }

        _pauses = pauses;
        return gen2Completed;
    }

    private void ReadOsFigures()
    {
        _cpu = Environment.CpuUsage;
        if (_procSelf is null || !_procSelf.TryReadResident(out _resident))
        {
            _resident = Environment.WorkingSet;
        }

        if (_procSelf is null || !_procSelf.TryReadThreads(out _threads))
        {
            _threads = ReadThreadCountSlowly();
        }
    }

    private int ReadThreadCountSlowly()
    {
        // Process.Threads allocates per thread, so read it at most once a second.
        long now = Environment.TickCount64;
        if (now - _threadCountReadAt >= 1000)
        {
            using Process process = Process.GetCurrentProcess();
            ProcessThreadCollection threads = process.Threads;
            _threadCount = threads.Count;
            foreach (ProcessThread thread in threads)
            {
                thread.Dispose();
            }

            _threadCountReadAt = now;
        }

        return _threadCount;
    }

    private void OnFirstChanceException(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e) =>
        Interlocked.Increment(ref _exceptions);

    private void OnAssemblyLoad(object? sender, AssemblyLoadEventArgs args) => Volatile.Write(ref _assembliesDirty, 1);

    private static DateTimeOffset ReadProcessStartTime()
    {
        using Process process = Process.GetCurrentProcess();
        return new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
    }

    private static string OsName()
    {
        if (OperatingSystem.IsLinux())
        {
            return "linux";
        }

        if (OperatingSystem.IsWindows())
        {
            return "windows";
        }

        if (OperatingSystem.IsMacOS())
        {
            return "osx";
        }

        return OperatingSystem.IsFreeBSD() ? "freebsd" : "other";
    }

    private static bool GCConcurrentEnabled() =>
        !GC.GetConfigurationVariables().TryGetValue("ConcurrentGC", out object? value) || value is not false;

    private struct GcHeapFigures
    {
        public long Committed;
        public long Limit;
        public long Load;
        public long HeapSize;
        public long Fragmented;
        public long Gen0;
        public long Gen1;
        public long Gen2;
        public long Loh;
        public long Poh;
        public long Promoted;
        public long Pinned;
        public long FinalizationPending;
    }
}
