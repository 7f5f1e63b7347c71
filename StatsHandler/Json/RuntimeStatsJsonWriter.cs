using System.Buffers;
using System.Text.Json;

namespace StatsHandler;

/// <summary>
/// Writes a <see cref="RuntimeStats"/> as the documented JSON object. Keys are pre-encoded and written in a fixed
/// order; numbers that could ever be non-finite are written as 0 so the document is always valid JSON.
/// </summary>
internal static class RuntimeStatsJsonWriter
{
    /// <summary>Every key in the order written; the README's table and the tests follow it.</summary>
    internal static readonly string[] Keys =
    [
        "time", "dotnet_version", "os", "os_description", "arch", "cpu_num", "pid", "process_start_time",
        "uptime_seconds", "gc_server", "gc_concurrent", "gc_latency_mode", "thread_num", "threadpool_thread_num",
        "threadpool_queue_length", "threadpool_completed_items", "lock_contention_num", "timer_num",
        "cpu_user_seconds", "cpu_system_seconds", "cpu_usage_percent", "memory_alloc", "memory_total_alloc",
        "memory_sys", "memory_committed", "memory_limit", "memory_load", "alloc_per_second", "heap_alloc",
        "heap_fragmented", "heap_gen0", "heap_gen1", "heap_gen2", "heap_loh", "heap_poh", "heap_promoted",
        "heap_pinned_objects", "heap_finalization_pending", "gc_num", "gc_gen0_num", "gc_gen1_num", "gc_gen2_num",
        "gc_per_second", "gc_pause_total_ms", "gc_pause_per_second", "gc_pause_percent", "gc_pause",
        "jit_method_num", "jit_il_bytes", "jit_time_ms", "assembly_num", "exception_num", "rate_interval_seconds",
    ];

    private static readonly JsonEncodedText[] Encoded = Array.ConvertAll(Keys, static key => JsonEncodedText.Encode(key));

    /// <summary>Writes <paramref name="stats"/> as one JSON object, then a server's <c>meters</c> and <c>published</c> keys if it has any.</summary>
    public static void Write(Utf8JsonWriter w, in RuntimeStats stats, ServerExports? exports = null)
    {
        int k = 0;
        w.WriteStartObject();
        w.WriteNumber(Encoded[k++], UnixNanoseconds(stats.Time));
        w.WriteString(Encoded[k++], stats.DotnetVersion);
        w.WriteString(Encoded[k++], stats.Os);
        w.WriteString(Encoded[k++], stats.OsDescription);
        w.WriteString(Encoded[k++], stats.Arch);
        w.WriteNumber(Encoded[k++], stats.CpuCount);
        w.WriteNumber(Encoded[k++], stats.ProcessId);
        w.WriteNumber(Encoded[k++], UnixNanoseconds(stats.ProcessStartTime));
        Number(w, Encoded[k++], stats.UptimeSeconds);
        w.WriteBoolean(Encoded[k++], stats.GcServer);
        w.WriteBoolean(Encoded[k++], stats.GcConcurrent);
        w.WriteString(Encoded[k++], stats.GcLatencyMode);
        w.WriteNumber(Encoded[k++], stats.ThreadCount);
        w.WriteNumber(Encoded[k++], stats.ThreadPoolThreadCount);
        w.WriteNumber(Encoded[k++], stats.ThreadPoolQueueLength);
        w.WriteNumber(Encoded[k++], stats.ThreadPoolCompletedItems);
        w.WriteNumber(Encoded[k++], stats.LockContentionCount);
        w.WriteNumber(Encoded[k++], stats.TimerCount);
        Number(w, Encoded[k++], stats.CpuUserSeconds);
        Number(w, Encoded[k++], stats.CpuSystemSeconds);
        Number(w, Encoded[k++], stats.CpuUsagePercent);
        w.WriteNumber(Encoded[k++], stats.MemoryAllocBytes);
        w.WriteNumber(Encoded[k++], stats.MemoryTotalAllocBytes);
        w.WriteNumber(Encoded[k++], stats.MemorySysBytes);
        w.WriteNumber(Encoded[k++], stats.MemoryCommittedBytes);
        w.WriteNumber(Encoded[k++], stats.MemoryLimitBytes);
        w.WriteNumber(Encoded[k++], stats.MemoryLoadBytes);
        Number(w, Encoded[k++], stats.AllocBytesPerSecond, 0);
        w.WriteNumber(Encoded[k++], stats.HeapAllocBytes);
        w.WriteNumber(Encoded[k++], stats.HeapFragmentedBytes);
        w.WriteNumber(Encoded[k++], stats.HeapGen0Bytes);
        w.WriteNumber(Encoded[k++], stats.HeapGen1Bytes);
        w.WriteNumber(Encoded[k++], stats.HeapGen2Bytes);
        w.WriteNumber(Encoded[k++], stats.HeapLohBytes);
        w.WriteNumber(Encoded[k++], stats.HeapPohBytes);
        w.WriteNumber(Encoded[k++], stats.HeapPromotedBytes);
        w.WriteNumber(Encoded[k++], stats.HeapPinnedObjects);
        w.WriteNumber(Encoded[k++], stats.HeapFinalizationPending);
        w.WriteNumber(Encoded[k++], stats.GcCount);
        w.WriteNumber(Encoded[k++], stats.GcGen0Count);
        w.WriteNumber(Encoded[k++], stats.GcGen1Count);
        w.WriteNumber(Encoded[k++], stats.GcGen2Count);
        Number(w, Encoded[k++], stats.GcPerSecond);
        Number(w, Encoded[k++], stats.GcPauseTotalMs);
        Number(w, Encoded[k++], stats.GcPausePerSecond);
        Number(w, Encoded[k++], stats.GcPausePercent);
        if (exports?.GcEvents is { } gcEvents)
        {
            // GC events on: every collection's pause, with its generation, reason and number beside it.
            GcEventJsonWriter.Write(w, gcEvents.Snapshot());
            k++;
        }
        else if (!stats.GcPausesJson.IsEmpty)
        {
            // Up to 256 numbers that change only when a collection ends: formatted then, not on every request.
            w.WritePropertyName(Encoded[k++]);
            w.WriteRawValue(stats.GcPausesJson.Span, skipInputValidation: true);
        }
        else
        {
            w.WriteStartArray(Encoded[k++]);
            foreach (double pause in stats.GcPauses.Span)
            {
                w.WriteNumberValue(Round(pause, 3));
            }

            w.WriteEndArray();
        }
        w.WriteNumber(Encoded[k++], stats.JitMethodCount);
        w.WriteNumber(Encoded[k++], stats.JitILBytes);
        Number(w, Encoded[k++], stats.JitTimeMs);
        w.WriteNumber(Encoded[k++], stats.AssemblyCount);
        w.WriteNumber(Encoded[k++], stats.ExceptionCount);
        Number(w, Encoded[k++], stats.RateIntervalSeconds);
        if (exports is not null)
        {
            ExportsJsonWriter.Write(w, exports);
        }

        w.WriteEndObject();
    }

    /// <summary>Returns <paramref name="stats"/> as a JSON string.</summary>
    public static string ToJson(in RuntimeStats stats, bool indented)
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            Write(writer, in stats);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Formats pauses as a compact JSON array, each rounded as <see cref="Write"/> rounds them.</summary>
    internal static byte[] PauseArray(ReadOnlySpan<double> pauses)
    {
        var buffer = new ArrayBufferWriter<byte>(16 + (pauses.Length * 8));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (double pause in pauses)
            {
                writer.WriteNumberValue(Round(pause, 3));
            }

            writer.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    internal static long UnixNanoseconds(DateTimeOffset time) =>
        (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    private static void Number(Utf8JsonWriter w, JsonEncodedText key, double value, int decimals = 3) =>
        w.WriteNumber(key, Round(value, decimals));

    private static double Round(double value, int decimals) =>
        double.IsFinite(value) ? Math.Round(value, decimals) : 0;
}
