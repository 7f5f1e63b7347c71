namespace StatsHandler;

/// <summary>
/// One immutable snapshot of the process's runtime statistics: one property per key of the JSON document.
/// </summary>
/// <remarks>
/// <para>The JSON methods (<see cref="WriteJson"/>, <see cref="ToJson"/>, <see cref="ToString"/>) are in the Json room,
/// Json/RuntimeStats.Json.cs, so the runtime probes use no format.</para>
/// <para>Take one with <see cref="RuntimeStatsCollector.Capture"/>; write it with <see cref="WriteJson(System.Text.Json.Utf8JsonWriter)"/>
/// or <see cref="ToJson(bool)"/>. It is a struct, like <see cref="GCMemoryInfo"/>, so that serving a request allocates nothing.</para>
/// <para>Heap figures (<c>Heap*</c>, <see cref="MemoryCommittedBytes"/>, <see cref="MemoryLoadBytes"/>) are as of the last
/// garbage collection, as the runtime reports them, and are zero before the first one.</para>
/// <para>Rates (<c>*PerSecond</c>, <see cref="CpuUsagePercent"/>, <see cref="GcPausePercent"/>) cover the last
/// <see cref="RateIntervalSeconds"/>; they are always finite and never negative.</para>
/// </remarks>
public readonly partial struct RuntimeStats
{
    /// <summary>When the snapshot was taken (<c>time</c>, unix nanoseconds in JSON).</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary>The runtime, as <c>".NET 10.0.1"</c> (<c>dotnet_version</c>).</summary>
    public string DotnetVersion { get; init; }

    /// <summary>The OS family: <c>linux</c>, <c>windows</c>, <c>osx</c>, <c>freebsd</c> or <c>other</c> (<c>os</c>).</summary>
    public string Os { get; init; }

    /// <summary>The OS name and version as the runtime describes it (<c>os_description</c>).</summary>
    public string OsDescription { get; init; }

    /// <summary>The process architecture: <c>x64</c>, <c>arm64</c>, <c>x86</c>, <c>arm</c>... (<c>arch</c>).</summary>
    public string Arch { get; init; }

    /// <summary>Processors available to the process, honouring affinity and container CPU limits (<c>cpu_num</c>).</summary>
    public int CpuCount { get; init; }

    /// <summary>The process id (<c>pid</c>).</summary>
    public int ProcessId { get; init; }

    /// <summary>When the process started (<c>process_start_time</c>, unix nanoseconds in JSON).</summary>
    public DateTimeOffset ProcessStartTime { get; init; }

    /// <summary>Seconds since the process started (<c>uptime_seconds</c>).</summary>
    public double UptimeSeconds { get; init; }

    /// <summary>True under server GC (<c>gc_server</c>).</summary>
    public bool GcServer { get; init; }

    /// <summary>True when background (concurrent) GC is enabled (<c>gc_concurrent</c>).</summary>
    public bool GcConcurrent { get; init; }

    /// <summary>The GC latency mode in snake_case, as <c>interactive</c> (<c>gc_latency_mode</c>).</summary>
    public string GcLatencyMode { get; init; }

    /// <summary>OS threads of the process (<c>thread_num</c>).</summary>
    public int ThreadCount { get; init; }

    /// <summary>Thread pool threads (<c>threadpool_thread_num</c>).</summary>
    public int ThreadPoolThreadCount { get; init; }

    /// <summary>Work items queued to the thread pool and not yet started (<c>threadpool_queue_length</c>).</summary>
    public long ThreadPoolQueueLength { get; init; }

    /// <summary>Work items the thread pool has completed since the process started (<c>threadpool_completed_items</c>).</summary>
    public long ThreadPoolCompletedItems { get; init; }

    /// <summary>Times a thread waited on a contended <see cref="Monitor"/> lock since the process started (<c>lock_contention_num</c>).</summary>
    public long LockContentionCount { get; init; }

    /// <summary>Timers currently active (<c>timer_num</c>).</summary>
    public long TimerCount { get; init; }

    /// <summary>CPU seconds spent in user mode since the process started (<c>cpu_user_seconds</c>).</summary>
    public double CpuUserSeconds { get; init; }

    /// <summary>CPU seconds spent in kernel mode since the process started (<c>cpu_system_seconds</c>).</summary>
    public double CpuSystemSeconds { get; init; }

    /// <summary>CPU used over the rate interval, 0-100 of all the CPUs available to the process (<c>cpu_usage_percent</c>).</summary>
    public double CpuUsagePercent { get; init; }

    /// <summary>Bytes the GC heap holds now, live and not yet collected (<c>memory_alloc</c>).</summary>
    public long MemoryAllocBytes { get; init; }

    /// <summary>Bytes allocated since the process started, even if freed (<c>memory_total_alloc</c>).</summary>
    public long MemoryTotalAllocBytes { get; init; }

    /// <summary>Resident set size (working set) of the process in bytes (<c>memory_sys</c>).</summary>
    public long MemorySysBytes { get; init; }

    /// <summary>Bytes the GC has committed from the OS (<c>memory_committed</c>).</summary>
    public long MemoryCommittedBytes { get; init; }

    /// <summary>Total memory available to the process, honouring container limits and GC heap hard limits (<c>memory_limit</c>).</summary>
    public long MemoryLimitBytes { get; init; }

    /// <summary>Memory in use on the machine or container, as the GC last saw it (<c>memory_load</c>).</summary>
    public long MemoryLoadBytes { get; init; }

    /// <summary>Bytes allocated per second over the rate interval (<c>alloc_per_second</c>).</summary>
    public double AllocBytesPerSecond { get; init; }

    /// <summary>GC heap size after the last collection, fragmentation included (<c>heap_alloc</c>).</summary>
    public long HeapAllocBytes { get; init; }

    /// <summary>Free space inside the GC heap after the last collection (<c>heap_fragmented</c>).</summary>
    public long HeapFragmentedBytes { get; init; }

    /// <summary>Generation 0 size after the last collection (<c>heap_gen0</c>).</summary>
    public long HeapGen0Bytes { get; init; }

    /// <summary>Generation 1 size after the last collection (<c>heap_gen1</c>).</summary>
    public long HeapGen1Bytes { get; init; }

    /// <summary>Generation 2 size after the last collection (<c>heap_gen2</c>).</summary>
    public long HeapGen2Bytes { get; init; }

    /// <summary>Large object heap size after the last collection (<c>heap_loh</c>).</summary>
    public long HeapLohBytes { get; init; }

    /// <summary>Pinned object heap size after the last collection (<c>heap_poh</c>).</summary>
    public long HeapPohBytes { get; init; }

    /// <summary>Bytes promoted by the last collection (<c>heap_promoted</c>).</summary>
    public long HeapPromotedBytes { get; init; }

    /// <summary>Pinned objects seen by the last collection (<c>heap_pinned_objects</c>).</summary>
    public long HeapPinnedObjects { get; init; }

    /// <summary>Objects waiting for finalization after the last collection (<c>heap_finalization_pending</c>).</summary>
    public long HeapFinalizationPending { get; init; }

    /// <summary>Collections of any generation since the process started (<c>gc_num</c>).</summary>
    public int GcCount { get; init; }

    /// <summary>Generation 0 collections, counting those of higher generations too (<c>gc_gen0_num</c>).</summary>
    public int GcGen0Count { get; init; }

    /// <summary>Generation 1 collections, counting generation 2 ones too (<c>gc_gen1_num</c>).</summary>
    public int GcGen1Count { get; init; }

    /// <summary>Generation 2 (full) collections (<c>gc_gen2_num</c>).</summary>
    public int GcGen2Count { get; init; }

    /// <summary>Collections per second over the rate interval (<c>gc_per_second</c>).</summary>
    public double GcPerSecond { get; init; }

    /// <summary>Milliseconds the GC has paused the process since it started (<c>gc_pause_total_ms</c>).</summary>
    public double GcPauseTotalMs { get; init; }

    /// <summary>Milliseconds of GC pause per second of wall time over the rate interval (<c>gc_pause_per_second</c>).</summary>
    public double GcPausePerSecond { get; init; }

    /// <summary>Percent of wall time spent paused by the GC over the rate interval (<c>gc_pause_percent</c>).</summary>
    public double GcPausePercent { get; init; }

    /// <summary>
    /// Pause in milliseconds of the recent collections this collector observed, newest first, at most 256 (<c>gc_pause</c>).
    /// </summary>
    /// <remarks>
    /// The runtime keeps the pause of only the last collection of each kind (ephemeral, full blocking, background), so when
    /// several collections of one kind happen between two snapshots only the last is listed. Counts and totals are exact.
    /// </remarks>
    public ReadOnlyMemory<double> GcPauses { get; init; }

    /// <summary>True when <see cref="OpenFileDescriptors"/> and <see cref="MaxFileDescriptors"/> were read (Linux).</summary>
    internal bool HasFileDescriptors { get; init; }

    /// <summary>Open file descriptors (Prometheus <c>process_open_fds</c>), read at most once a second.</summary>
    internal long OpenFileDescriptors { get; init; }

    /// <summary>The soft limit on open file descriptors (Prometheus <c>process_max_fds</c>).</summary>
    internal long MaxFileDescriptors { get; init; }

    /// <summary>Methods JIT-compiled since the process started (<c>jit_method_num</c>).</summary>
    public long JitMethodCount { get; init; }

    /// <summary>Bytes of IL JIT-compiled since the process started (<c>jit_il_bytes</c>).</summary>
    public long JitILBytes { get; init; }

    /// <summary>Milliseconds spent JIT-compiling since the process started (<c>jit_time_ms</c>).</summary>
    public double JitTimeMs { get; init; }

    /// <summary>Assemblies loaded (<c>assembly_num</c>).</summary>
    public int AssemblyCount { get; init; }

    /// <summary>
    /// First-chance exceptions thrown since the probe began counting (<c>exception_num</c>): at the creation of the first
    /// handler or collector reading its stats source (on a server, when its first stats handler was mounted), or of a
    /// handler or collector with a probe of its own.
    /// </summary>
    public long ExceptionCount { get; init; }

    /// <summary>The interval in seconds that every rate in this snapshot covers (<c>rate_interval_seconds</c>).</summary>
    public double RateIntervalSeconds { get; init; }
}
