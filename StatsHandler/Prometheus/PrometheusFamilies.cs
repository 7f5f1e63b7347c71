using System.Collections.Frozen;

namespace StatsHandler;

/// <summary>
/// The built-in families: standard <c>process_*</c> ones and <c>dotnet_*</c> ones named after .NET's
/// <c>System.Runtime</c> meter, written from a <see cref="RuntimeStats"/> with headers encoded once.
/// </summary>
/// <remarks>
/// Every number in the JSON document has a family here except the rates (Prometheus computes those from the
/// counters), <c>time</c> (Prometheus timestamps each scrape) and <c>gc_pause</c> (see the README: the runtime does not
/// keep every collection's pause, so a histogram of them would not be exact).
/// </remarks>
internal static class PrometheusFamilies
{
    private static readonly PrometheusHeader CpuSeconds = PrometheusHeader.Create(
        "process_cpu_seconds", "counter", "Total user and system CPU time spent in seconds (JSON cpu_user_seconds + cpu_system_seconds).");

    private static readonly PrometheusHeader ResidentMemory = PrometheusHeader.Create(
        "process_resident_memory_bytes", "gauge", "Resident memory size in bytes (JSON memory_sys).");

    private static readonly PrometheusHeader StartTime = PrometheusHeader.Create(
        "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds (JSON process_start_time; uptime_seconds is time() minus this).");

    private static readonly PrometheusHeader OpenFds = PrometheusHeader.Create(
        "process_open_fds", "gauge", "Number of open file descriptors.");

    private static readonly PrometheusHeader MaxFds = PrometheusHeader.Create(
        "process_max_fds", "gauge", "Maximum number of open file descriptors (the soft limit).");

    private static readonly PrometheusHeader Threads = PrometheusHeader.Create(
        "process_num_threads", "gauge", "Number of OS threads in the process (JSON thread_num).");

    private static readonly PrometheusHeader RuntimeInfo = PrometheusHeader.Create(
        "dotnet_runtime_info", "gauge", "Always 1; the labels describe the runtime (JSON dotnet_version, os, arch, pid, gc_server, gc_concurrent, gc_latency_mode).");

    private static readonly PrometheusHeader CpuCount = PrometheusHeader.Create(
        "dotnet_process_cpus", "gauge", "Processors available to the process, honouring affinity and container limits (JSON cpu_num).");

    private static readonly PrometheusHeader CpuTime = PrometheusHeader.Create(
        "dotnet_process_cpu_time_seconds", "counter", "CPU time used by the process by mode, in seconds (JSON cpu_user_seconds, cpu_system_seconds).");

    private static readonly PrometheusHeader PoolThreads = PrometheusHeader.Create(
        "dotnet_thread_pool_threads", "gauge", "Thread pool threads (JSON threadpool_thread_num).");

    private static readonly PrometheusHeader PoolQueue = PrometheusHeader.Create(
        "dotnet_thread_pool_queue_length", "gauge", "Work items queued to the thread pool and not yet started (JSON threadpool_queue_length).");

    private static readonly PrometheusHeader PoolItems = PrometheusHeader.Create(
        "dotnet_thread_pool_work_item_count", "counter", "Work items the thread pool has completed (JSON threadpool_completed_items).");

    private static readonly PrometheusHeader LockContentions = PrometheusHeader.Create(
        "dotnet_monitor_lock_contentions", "counter", "Times a thread waited on a contended Monitor lock (JSON lock_contention_num).");

    private static readonly PrometheusHeader Timers = PrometheusHeader.Create(
        "dotnet_timers_active", "gauge", "Timers currently active (JSON timer_num).");

    private static readonly PrometheusHeader TotalMemory = PrometheusHeader.Create(
        "dotnet_total_memory_bytes", "gauge", "Bytes the GC heap holds now, live and not yet collected (JSON memory_alloc).");

    private static readonly PrometheusHeader Allocated = PrometheusHeader.Create(
        "dotnet_gc_heap_total_allocated_bytes", "counter", "Bytes allocated on the GC heap since the process started (JSON memory_total_alloc).");

    private static readonly PrometheusHeader Committed = PrometheusHeader.Create(
        "dotnet_gc_last_collection_memory_committed_size_bytes", "gauge", "Bytes the GC had committed at the last collection (JSON memory_committed).");

    private static readonly PrometheusHeader Available = PrometheusHeader.Create(
        "dotnet_gc_memory_total_available_bytes", "gauge", "Memory available to the process, honouring container and GC hard limits (JSON memory_limit).");

    private static readonly PrometheusHeader Load = PrometheusHeader.Create(
        "dotnet_gc_last_collection_memory_load_bytes", "gauge", "Memory in use on the machine or container when the GC last looked (JSON memory_load).");

    private static readonly PrometheusHeader HeapSize = PrometheusHeader.Create(
        "dotnet_gc_heap_size_bytes", "gauge", "GC heap size after the last collection, all generations and fragmentation included (JSON heap_alloc).");

    private static readonly PrometheusHeader Fragmentation = PrometheusHeader.Create(
        "dotnet_gc_last_collection_heap_fragmentation_size_bytes", "gauge", "Free space inside the GC heap after the last collection (JSON heap_fragmented).");

    private static readonly PrometheusHeader GenerationSize = PrometheusHeader.Create(
        "dotnet_gc_last_collection_heap_size_bytes", "gauge", "Size of each GC heap generation after the last collection (JSON heap_gen0, heap_gen1, heap_gen2, heap_loh, heap_poh).");

    private static readonly PrometheusHeader Promoted = PrometheusHeader.Create(
        "dotnet_gc_last_collection_promoted_bytes", "gauge", "Bytes promoted by the last collection (JSON heap_promoted).");

    private static readonly PrometheusHeader Pinned = PrometheusHeader.Create(
        "dotnet_gc_last_collection_pinned_objects", "gauge", "Pinned objects seen by the last collection (JSON heap_pinned_objects).");

    private static readonly PrometheusHeader FinalizationPending = PrometheusHeader.Create(
        "dotnet_gc_finalization_pending_objects", "gauge", "Objects waiting for their finalizer after the last collection (JSON heap_finalization_pending).");

    private static readonly PrometheusHeader Collections = PrometheusHeader.Create(
        "dotnet_gc_collections", "counter",
        "Garbage collections of exactly this generation since the process started. The JSON gc_genN_num count collections of generation N or higher, so gen0 here is gc_gen0_num - gc_gen1_num, gen1 is gc_gen1_num - gc_gen2_num, gen2 is gc_gen2_num, and the sum is gc_num.");

    private static readonly PrometheusHeader PauseTime = PrometheusHeader.Create(
        "dotnet_gc_pause_time_seconds", "counter", "Time the GC has paused the process since it started, in seconds (JSON gc_pause_total_ms).");

    private static readonly PrometheusHeader JitMethods = PrometheusHeader.Create(
        "dotnet_jit_compiled_methods", "counter", "Methods JIT-compiled since the process started (JSON jit_method_num).");

    private static readonly PrometheusHeader JitIl = PrometheusHeader.Create(
        "dotnet_jit_compiled_il_size_bytes", "counter", "Bytes of IL JIT-compiled since the process started (JSON jit_il_bytes).");

    private static readonly PrometheusHeader JitTime = PrometheusHeader.Create(
        "dotnet_jit_compilation_time_seconds", "counter", "Time spent JIT-compiling since the process started, in seconds (JSON jit_time_ms).");

    private static readonly PrometheusHeader Assemblies = PrometheusHeader.Create(
        "dotnet_assemblies_loaded", "gauge", "Assemblies loaded (JSON assembly_num).");

    private static readonly PrometheusHeader Exceptions = PrometheusHeader.Create(
        "dotnet_exceptions", "counter", "First-chance exceptions thrown since the handler was created (JSON exception_num).");

    /// <summary>The family of series the meter bridge did not create because an instrument reached its cap.</summary>
    internal static readonly PrometheusHeader DroppedSeries = PrometheusHeader.Create(
        "statshandler_dropped_series", "counter", "Series of an exported instrument dropped because it reached the per-instrument series cap (StatsServer.MaxSeriesPerInstrument).");

    /// <summary>Every name a built-in family or its samples use; instruments and published values keep off them.</summary>
    private static readonly FrozenSet<string> BuiltInNames = FrozenSet.ToFrozenSet(
        [
            .. GcEventPrometheusWriter.Names,
            "process_cpu_seconds", "process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds",
            "process_open_fds", "process_max_fds", "process_num_threads", "dotnet_runtime_info", "dotnet_process_cpus",
            "dotnet_process_cpu_time_seconds", "dotnet_process_cpu_time_seconds_total", "dotnet_thread_pool_threads",
            "dotnet_thread_pool_queue_length", "dotnet_thread_pool_work_item_count", "dotnet_thread_pool_work_item_count_total",
            "dotnet_monitor_lock_contentions", "dotnet_monitor_lock_contentions_total", "dotnet_timers_active", "dotnet_total_memory_bytes",
            "dotnet_gc_heap_total_allocated_bytes", "dotnet_gc_heap_total_allocated_bytes_total",
            "dotnet_gc_last_collection_memory_committed_size_bytes", "dotnet_gc_memory_total_available_bytes",
            "dotnet_gc_last_collection_memory_load_bytes", "dotnet_gc_heap_size_bytes", "dotnet_gc_last_collection_heap_fragmentation_size_bytes",
            "dotnet_gc_last_collection_heap_size_bytes", "dotnet_gc_last_collection_promoted_bytes", "dotnet_gc_last_collection_pinned_objects",
            "dotnet_gc_finalization_pending_objects", "dotnet_gc_collections", "dotnet_gc_collections_total", "dotnet_gc_pause_time_seconds",
            "dotnet_gc_pause_time_seconds_total", "dotnet_jit_compiled_methods", "dotnet_jit_compiled_methods_total",
            "dotnet_jit_compiled_il_size_bytes", "dotnet_jit_compiled_il_size_bytes_total", "dotnet_jit_compilation_time_seconds",
            "dotnet_jit_compilation_time_seconds_total", "dotnet_assemblies_loaded", "dotnet_exceptions", "dotnet_exceptions_total",
            "statshandler_dropped_series", "statshandler_dropped_series_total",
        ],
        StringComparer.Ordinal);

    /// <summary>True when <paramref name="name"/> is a built-in family's name or one of its sample names.</summary>
    public static bool IsBuiltIn(string name) => BuiltInNames.Contains(name);

    /// <summary>Writes every built-in family from <paramref name="stats"/> and <paramref name="process"/>.</summary>
    public static void Write(PrometheusBuffer b, bool openMetrics, in RuntimeStats stats, in ProcessFigures process)
    {
        b.Write(CpuSeconds.For(openMetrics));
        Sample(b, "process_cpu_seconds_total "u8, stats.CpuUserSeconds + stats.CpuSystemSeconds);
        b.Write(ResidentMemory.For(openMetrics));
        Sample(b, "process_resident_memory_bytes "u8, stats.MemorySysBytes);
        b.Write(StartTime.For(openMetrics));
        Sample(b, "process_start_time_seconds "u8, stats.ProcessStartTime.ToUnixTimeMilliseconds() / 1000.0);
        if (process.HasFileDescriptors)
        {
            b.Write(OpenFds.For(openMetrics));
            Sample(b, "process_open_fds "u8, process.OpenFileDescriptors);
            b.Write(MaxFds.For(openMetrics));
            Sample(b, "process_max_fds "u8, process.MaxFileDescriptors);
        }

        b.Write(Threads.For(openMetrics));
        Sample(b, "process_num_threads "u8, stats.ThreadCount);

        b.Write(RuntimeInfo.For(openMetrics));
        b.Write("dotnet_runtime_info{version=\""u8);
        b.WriteLabelValue(stats.DotnetVersion ?? string.Empty);
        b.Write("\",os=\""u8);
        b.WriteLabelValue(stats.Os ?? string.Empty);
        b.Write("\",arch=\""u8);
        b.WriteLabelValue(stats.Arch ?? string.Empty);
        b.Write("\",pid=\""u8);
        b.Write(stats.ProcessId);
        b.Write(stats.GcServer ? "\",gc_server=\"true"u8 : "\",gc_server=\"false"u8);
        b.Write(stats.GcConcurrent ? "\",gc_concurrent=\"true"u8 : "\",gc_concurrent=\"false"u8);
        b.Write("\",gc_latency_mode=\""u8);
        b.WriteLabelValue(stats.GcLatencyMode ?? string.Empty);
        b.Write("\"} 1\n"u8);

        b.Write(CpuCount.For(openMetrics));
        Sample(b, "dotnet_process_cpus "u8, stats.CpuCount);
        b.Write(CpuTime.For(openMetrics));
        Sample(b, "dotnet_process_cpu_time_seconds_total{cpu_mode=\"user\"} "u8, stats.CpuUserSeconds);
        Sample(b, "dotnet_process_cpu_time_seconds_total{cpu_mode=\"system\"} "u8, stats.CpuSystemSeconds);
        b.Write(PoolThreads.For(openMetrics));
        Sample(b, "dotnet_thread_pool_threads "u8, stats.ThreadPoolThreadCount);
        b.Write(PoolQueue.For(openMetrics));
        Sample(b, "dotnet_thread_pool_queue_length "u8, stats.ThreadPoolQueueLength);
        b.Write(PoolItems.For(openMetrics));
        Sample(b, "dotnet_thread_pool_work_item_count_total "u8, stats.ThreadPoolCompletedItems);
        b.Write(LockContentions.For(openMetrics));
        Sample(b, "dotnet_monitor_lock_contentions_total "u8, stats.LockContentionCount);
        b.Write(Timers.For(openMetrics));
        Sample(b, "dotnet_timers_active "u8, stats.TimerCount);

        b.Write(TotalMemory.For(openMetrics));
        Sample(b, "dotnet_total_memory_bytes "u8, stats.MemoryAllocBytes);
        b.Write(Allocated.For(openMetrics));
        Sample(b, "dotnet_gc_heap_total_allocated_bytes_total "u8, stats.MemoryTotalAllocBytes);
        b.Write(Committed.For(openMetrics));
        Sample(b, "dotnet_gc_last_collection_memory_committed_size_bytes "u8, stats.MemoryCommittedBytes);
        b.Write(Available.For(openMetrics));
        Sample(b, "dotnet_gc_memory_total_available_bytes "u8, stats.MemoryLimitBytes);
        b.Write(Load.For(openMetrics));
        Sample(b, "dotnet_gc_last_collection_memory_load_bytes "u8, stats.MemoryLoadBytes);
        b.Write(HeapSize.For(openMetrics));
        Sample(b, "dotnet_gc_heap_size_bytes "u8, stats.HeapAllocBytes);
        b.Write(Fragmentation.For(openMetrics));
        Sample(b, "dotnet_gc_last_collection_heap_fragmentation_size_bytes "u8, stats.HeapFragmentedBytes);
        b.Write(GenerationSize.For(openMetrics));
        Sample(b, "dotnet_gc_last_collection_heap_size_bytes{gc_heap_generation=\"gen0\"} "u8, stats.HeapGen0Bytes);
        Sample(b, "dotnet_gc_last_collection_heap_size_bytes{gc_heap_generation=\"gen1\"} "u8, stats.HeapGen1Bytes);
        Sample(b, "dotnet_gc_last_collection_heap_size_bytes{gc_heap_generation=\"gen2\"} "u8, stats.HeapGen2Bytes);
        Sample(b, "dotnet_gc_last_collection_heap_size_bytes{gc_heap_generation=\"loh\"} "u8, stats.HeapLohBytes);
        Sample(b, "dotnet_gc_last_collection_heap_size_bytes{gc_heap_generation=\"poh\"} "u8, stats.HeapPohBytes);
        b.Write(Promoted.For(openMetrics));
        Sample(b, "dotnet_gc_last_collection_promoted_bytes "u8, stats.HeapPromotedBytes);
        b.Write(Pinned.For(openMetrics));
        Sample(b, "dotnet_gc_last_collection_pinned_objects "u8, stats.HeapPinnedObjects);
        b.Write(FinalizationPending.For(openMetrics));
        Sample(b, "dotnet_gc_finalization_pending_objects "u8, stats.HeapFinalizationPending);

        b.Write(Collections.For(openMetrics));
        Sample(b, "dotnet_gc_collections_total{gc_heap_generation=\"gen0\"} "u8, process.Gen0Collections);
        Sample(b, "dotnet_gc_collections_total{gc_heap_generation=\"gen1\"} "u8, process.Gen1Collections);
        Sample(b, "dotnet_gc_collections_total{gc_heap_generation=\"gen2\"} "u8, process.Gen2Collections);
        b.Write(PauseTime.For(openMetrics));
        Sample(b, "dotnet_gc_pause_time_seconds_total "u8, stats.GcPauseTotalMs / 1000);

        b.Write(JitMethods.For(openMetrics));
        Sample(b, "dotnet_jit_compiled_methods_total "u8, stats.JitMethodCount);
        b.Write(JitIl.For(openMetrics));
        Sample(b, "dotnet_jit_compiled_il_size_bytes_total "u8, stats.JitILBytes);
        b.Write(JitTime.For(openMetrics));
        Sample(b, "dotnet_jit_compilation_time_seconds_total "u8, stats.JitTimeMs / 1000);
        b.Write(Assemblies.For(openMetrics));
        Sample(b, "dotnet_assemblies_loaded "u8, stats.AssemblyCount);
        b.Write(Exceptions.For(openMetrics));
        Sample(b, "dotnet_exceptions_total "u8, stats.ExceptionCount);
    }

    private static void Sample(PrometheusBuffer b, ReadOnlySpan<byte> nameAndLabels, long value)
    {
        b.Write(nameAndLabels);
        b.Write(value);
        b.Write((byte)'\n');
    }

    private static void Sample(PrometheusBuffer b, ReadOnlySpan<byte> nameAndLabels, double value)
    {
        b.Write(nameAndLabels);
        b.Write(value);
        b.Write((byte)'\n');
    }
}
