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
    private const string Counter = PrometheusNames.Counter;
    private const string Gauge = PrometheusNames.Gauge;

    /// <summary>Every built-in family, in the order written: name, type, help and samples in one place each.</summary>
    private static readonly Family[] Table =
    [
        new("process_cpu_seconds", Counter, "Total user and system CPU time spent in seconds (JSON cpu_user_seconds + cpu_system_seconds).",
            Double(static (in RuntimeStats s, in GcGenerationCounts p) => Ticks(s.CpuUserSeconds + s.CpuSystemSeconds))),
        new("process_resident_memory_bytes", Gauge, "Resident memory size in bytes (JSON memory_sys).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.MemorySysBytes)),
        new("process_start_time_seconds", Gauge, "Start time of the process since unix epoch in seconds (JSON process_start_time; uptime_seconds is time() minus this).",
            Double(static (in RuntimeStats s, in GcGenerationCounts p) => s.ProcessStartTime.ToUnixTimeMilliseconds() / 1000.0)),
        new("process_open_fds", Gauge, "Number of open file descriptors.", static (in RuntimeStats s) => s.HasFileDescriptors,
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.OpenFileDescriptors)),
        new("process_max_fds", Gauge, "Maximum number of open file descriptors (the soft limit).", static (in RuntimeStats s) => s.HasFileDescriptors,
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.MaxFileDescriptors)),
        new("process_num_threads", Gauge, "Number of OS threads in the process (JSON thread_num).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.ThreadCount)),
        new("dotnet_runtime_info", Gauge, "Always 1; the labels describe the runtime (JSON dotnet_version, os, arch, pid, gc_server, gc_concurrent, gc_latency_mode).",
            new Sample(WriteRuntimeInfo)),
        new("dotnet_process_cpus", Gauge, "Processors available to the process, honouring affinity and container limits (JSON cpu_num).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.CpuCount)),
        new("dotnet_process_cpu_time_seconds", Counter, "CPU time used by the process by mode, in seconds (JSON cpu_user_seconds, cpu_system_seconds).",
            Double(static (in RuntimeStats s, in GcGenerationCounts p) => Ticks(s.CpuUserSeconds), "cpu_mode=\"user\""),
            Double(static (in RuntimeStats s, in GcGenerationCounts p) => Ticks(s.CpuSystemSeconds), "cpu_mode=\"system\"")),
        new("dotnet_thread_pool_threads", Gauge, "Thread pool threads (JSON threadpool_thread_num).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.ThreadPoolThreadCount)),
        new("dotnet_thread_pool_queue_length", Gauge, "Work items queued to the thread pool and not yet started (JSON threadpool_queue_length).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.ThreadPoolQueueLength)),
        new("dotnet_thread_pool_work_item_count", Counter, "Work items the thread pool has completed (JSON threadpool_completed_items).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.ThreadPoolCompletedItems)),
        new("dotnet_monitor_lock_contentions", Counter, "Times a thread waited on a contended Monitor lock (JSON lock_contention_num).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.LockContentionCount)),
        new("dotnet_timers_active", Gauge, "Timers currently active (JSON timer_num).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.TimerCount)),
        new("dotnet_total_memory_bytes", Gauge, "Bytes the GC heap holds now, live and not yet collected (JSON memory_alloc).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.MemoryAllocBytes)),
        new("dotnet_gc_heap_total_allocated_bytes", Counter, "Bytes allocated on the GC heap since the process started (JSON memory_total_alloc).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.MemoryTotalAllocBytes)),
        new("dotnet_gc_last_collection_memory_committed_size_bytes", Gauge, "Bytes the GC had committed at the last collection (JSON memory_committed).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.MemoryCommittedBytes)),
        new("dotnet_gc_memory_total_available_bytes", Gauge, "Memory available to the process, honouring container and GC hard limits (JSON memory_limit).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.MemoryLimitBytes)),
        new("dotnet_gc_last_collection_memory_load_bytes", Gauge, "Memory in use on the machine or container when the GC last looked (JSON memory_load).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.MemoryLoadBytes)),
        new("dotnet_gc_heap_size_bytes", Gauge, "GC heap size after the last collection, all generations and fragmentation included (JSON heap_alloc).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.HeapAllocBytes)),
        new("dotnet_gc_last_collection_heap_fragmentation_size_bytes", Gauge, "Free space inside the GC heap after the last collection (JSON heap_fragmented).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.HeapFragmentedBytes)),
        new("dotnet_gc_last_collection_heap_size_bytes", Gauge, "Size of each GC heap generation after the last collection (JSON heap_gen0, heap_gen1, heap_gen2, heap_loh, heap_poh).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.HeapGen0Bytes, "gc_heap_generation=\"gen0\""),
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.HeapGen1Bytes, "gc_heap_generation=\"gen1\""),
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.HeapGen2Bytes, "gc_heap_generation=\"gen2\""),
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.HeapLohBytes, "gc_heap_generation=\"loh\""),
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.HeapPohBytes, "gc_heap_generation=\"poh\"")),
        new("dotnet_gc_last_collection_promoted_bytes", Gauge, "Bytes promoted by the last collection (JSON heap_promoted).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.HeapPromotedBytes)),
        new("dotnet_gc_last_collection_pinned_objects", Gauge, "Pinned objects seen by the last collection (JSON heap_pinned_objects).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.HeapPinnedObjects)),
        new("dotnet_gc_finalization_pending_objects", Gauge, "Objects waiting for their finalizer after the last collection (JSON heap_finalization_pending).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.HeapFinalizationPending)),
        new("dotnet_gc_collections", Counter, "Garbage collections of exactly this generation since the process started. The JSON gc_genN_num count collections of generation N or higher, so gen0 here is gc_gen0_num - gc_gen1_num, gen1 is gc_gen1_num - gc_gen2_num, gen2 is gc_gen2_num, and the sum is gc_num.",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => p.Gen0, "gc_heap_generation=\"gen0\""),
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => p.Gen1, "gc_heap_generation=\"gen1\""),
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => p.Gen2, "gc_heap_generation=\"gen2\"")),
        new("dotnet_gc_pause_time_seconds", Counter, "Time the GC has paused the process since it started, in seconds (JSON gc_pause_total_ms).",
            Double(static (in RuntimeStats s, in GcGenerationCounts p) => Ticks(s.GcPauseTotalMs / 1000))),
        new("dotnet_jit_compiled_methods", Counter, "Methods JIT-compiled since the process started (JSON jit_method_num).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.JitMethodCount)),
        new("dotnet_jit_compiled_il_size_bytes", Counter, "Bytes of IL JIT-compiled since the process started (JSON jit_il_bytes).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.JitILBytes)),
        new("dotnet_jit_compilation_time_seconds", Counter, "Time spent JIT-compiling since the process started, in seconds (JSON jit_time_ms).",
            Double(static (in RuntimeStats s, in GcGenerationCounts p) => Ticks(s.JitTimeMs / 1000))),
        new("dotnet_assemblies_loaded", Gauge, "Assemblies loaded (JSON assembly_num).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.AssemblyCount)),
        new("dotnet_exceptions", Counter, "First-chance exceptions thrown since the first handler reading this count was created (JSON exception_num).",
            Long(static (in RuntimeStats s, in GcGenerationCounts p) => s.ExceptionCount)),
    ];

    /// <summary>The family of series the meter bridge did not create because an instrument reached its cap.</summary>
    internal static readonly PrometheusHeader DroppedSeries = PrometheusHeader.Create(
        PrometheusNames.DroppedSeries, Counter, "Series of an exported instrument dropped because it reached the per-instrument series cap (StatsServer.MaxSeriesPerInstrument).");

    /// <summary>The names of the families in the table, for the test that holds them to <see cref="PrometheusNames.BuiltInFamilies"/>.</summary>
    internal static IEnumerable<(string Name, string Type)> Families => Table.Select(f => (f.Name, f.Type));

    private delegate long LongOf(in RuntimeStats stats, in GcGenerationCounts process);

    private delegate double DoubleOf(in RuntimeStats stats, in GcGenerationCounts process);

    private delegate bool Condition(in RuntimeStats stats);

    private delegate void SampleWriter(PrometheusBuffer b, in RuntimeStats stats);

    /// <summary>Writes every built-in family from <paramref name="stats"/> and <paramref name="process"/>.</summary>
    public static void Write(PrometheusBuffer b, bool openMetrics, in RuntimeStats stats, in GcGenerationCounts process)
    {
        foreach (Family family in Table)
        {
            if (family.When is not null && !family.When(in stats))
            {
                continue;
            }

            b.Write(family.Header.For(openMetrics));
            foreach (Sample sample in family.Samples)
            {
                sample.Write(b, in stats, in process);
            }
        }
    }

    private static Sample Long(LongOf value, string? labels = null) => new(labels, value, null);

    private static Sample Double(DoubleOf value, string? labels = null) => new(labels, null, value);

    /// <summary>
    /// Seconds rounded to the 100 ns tick the runtime measures them in: a sum or a ms-to-s division of doubles
    /// otherwise prints binary noise such as <c>0.49857999999999997</c> where the source had <c>0.49858</c>.
    /// </summary>
    private static double Ticks(double seconds) => Math.Round(seconds, 7);

    private static void WriteRuntimeInfo(PrometheusBuffer b, in RuntimeStats stats)
    {
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
    }

    /// <summary>One family: its header encoded once, and its samples, each named after it.</summary>
    private sealed class Family
    {
        public Family(string name, string type, string help, params Sample[] samples)
            : this(name, type, help, null, samples)
        {
        }

        public Family(string name, string type, string help, Condition? when, params Sample[] samples)
        {
            Name = name;
            Type = type;
            When = when;
            Samples = samples;
            Header = PrometheusHeader.Create(name, type, help);
            string sampleName = PrometheusNames.SampleName(name, type);
            foreach (Sample sample in samples)
            {
                sample.Bind(sampleName);
            }
        }

        public string Name { get; }

        public string Type { get; }

        /// <summary>Null when the family is always written; else true when the snapshot has its figures.</summary>
        public Condition? When { get; }

        public Sample[] Samples { get; }

        public PrometheusHeader Header { get; }
    }

    /// <summary>One sample of a family: its labels and the value it is written from (or a writer of its own).</summary>
    private sealed class Sample
    {
        private readonly string? _labels;
        private readonly LongOf? _long;
        private readonly DoubleOf? _double;
        private readonly SampleWriter? _custom;
        private byte[] _prefix = [];

        public Sample(string? labels, LongOf? integer, DoubleOf? number)
        {
            _labels = labels;
            _long = integer;
            _double = number;
        }

        public Sample(SampleWriter custom) => _custom = custom;

        /// <summary>Encodes <c>name{labels} </c> once, with the family's sample name.</summary>
        public void Bind(string sampleName) =>
            _prefix = System.Text.Encoding.UTF8.GetBytes(sampleName + (_labels is null ? string.Empty : "{" + _labels + "}") + " ");

        public void Write(PrometheusBuffer b, in RuntimeStats stats, in GcGenerationCounts process)
        {
            if (_custom is not null)
            {
                _custom(b, in stats);
                return;
            }

            b.Write(_prefix);
            if (_long is not null)
            {
                b.Write(_long(in stats, in process));
            }
            else
            {
                b.Write(_double!(in stats, in process));
            }

            b.Write((byte)'\n');
        }
    }
}
