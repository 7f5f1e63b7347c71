using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace StatsHandler;

/// <summary>
/// Writes a <see cref="RuntimeStats"/> as the documented JSON object, from one table that binds each key to the value
/// it is written from: reordering the table reorders the document and cannot mislabel a value. Keys are pre-encoded;
/// a number that is not finite is written as <c>null</c>, as everywhere in the document, so it stays valid JSON.
/// </summary>
internal static class RuntimeStatsJsonWriter
{
    private static readonly Field[] Fields =
    [
        new Long("time", static (in RuntimeStats s) => UnixNanoseconds(s.Time)),
        new Text("dotnet_version", static (in RuntimeStats s) => s.DotnetVersion),
        new Text("os", static (in RuntimeStats s) => s.Os),
        new Text("os_description", static (in RuntimeStats s) => s.OsDescription),
        new Text("arch", static (in RuntimeStats s) => s.Arch),
        new Long("cpu_num", static (in RuntimeStats s) => s.CpuCount),
        new Long("pid", static (in RuntimeStats s) => s.ProcessId),
        new Long("process_start_time", static (in RuntimeStats s) => UnixNanoseconds(s.ProcessStartTime)),
        new Number("uptime_seconds", static (in RuntimeStats s) => s.UptimeSeconds),
        new Flag("gc_server", static (in RuntimeStats s) => s.GcServer),
        new Flag("gc_concurrent", static (in RuntimeStats s) => s.GcConcurrent),
        new Text("gc_latency_mode", static (in RuntimeStats s) => s.GcLatencyMode),
        new Long("thread_num", static (in RuntimeStats s) => s.ThreadCount),
        new Long("threadpool_thread_num", static (in RuntimeStats s) => s.ThreadPoolThreadCount),
        new Long("threadpool_queue_length", static (in RuntimeStats s) => s.ThreadPoolQueueLength),
        new Long("threadpool_completed_items", static (in RuntimeStats s) => s.ThreadPoolCompletedItems),
        new Long("lock_contention_num", static (in RuntimeStats s) => s.LockContentionCount),
        new Long("timer_num", static (in RuntimeStats s) => s.TimerCount),
        new Number("cpu_user_seconds", static (in RuntimeStats s) => s.CpuUserSeconds),
        new Number("cpu_system_seconds", static (in RuntimeStats s) => s.CpuSystemSeconds),
        new Number("cpu_usage_percent", static (in RuntimeStats s) => s.CpuUsagePercent),
        new Long("memory_alloc", static (in RuntimeStats s) => s.MemoryAllocBytes),
        new Long("memory_total_alloc", static (in RuntimeStats s) => s.MemoryTotalAllocBytes),
        new Long("memory_sys", static (in RuntimeStats s) => s.MemorySysBytes),
        new Long("memory_committed", static (in RuntimeStats s) => s.MemoryCommittedBytes),
        new Long("memory_limit", static (in RuntimeStats s) => s.MemoryLimitBytes),
        new Long("memory_load", static (in RuntimeStats s) => s.MemoryLoadBytes),
        new Number("alloc_per_second", static (in RuntimeStats s) => s.AllocBytesPerSecond, decimals: 0),
        new Long("heap_alloc", static (in RuntimeStats s) => s.HeapAllocBytes),
        new Long("heap_fragmented", static (in RuntimeStats s) => s.HeapFragmentedBytes),
        new Long("heap_gen0", static (in RuntimeStats s) => s.HeapGen0Bytes),
        new Long("heap_gen1", static (in RuntimeStats s) => s.HeapGen1Bytes),
        new Long("heap_gen2", static (in RuntimeStats s) => s.HeapGen2Bytes),
        new Long("heap_loh", static (in RuntimeStats s) => s.HeapLohBytes),
        new Long("heap_poh", static (in RuntimeStats s) => s.HeapPohBytes),
        new Long("heap_promoted", static (in RuntimeStats s) => s.HeapPromotedBytes),
        new Long("heap_pinned_objects", static (in RuntimeStats s) => s.HeapPinnedObjects),
        new Long("heap_finalization_pending", static (in RuntimeStats s) => s.HeapFinalizationPending),
        new Long("gc_num", static (in RuntimeStats s) => s.GcCount),
        new Long("gc_gen0_num", static (in RuntimeStats s) => s.GcGen0Count),
        new Long("gc_gen1_num", static (in RuntimeStats s) => s.GcGen1Count),
        new Long("gc_gen2_num", static (in RuntimeStats s) => s.GcGen2Count),
        new Number("gc_per_second", static (in RuntimeStats s) => s.GcPerSecond),
        new Number("gc_pause_total_ms", static (in RuntimeStats s) => s.GcPauseTotalMs),
        new Number("gc_pause_per_second", static (in RuntimeStats s) => s.GcPausePerSecond),
        new Number("gc_pause_percent", static (in RuntimeStats s) => s.GcPausePercent),
        new Pauses("gc_pause"),
        new Long("jit_method_num", static (in RuntimeStats s) => s.JitMethodCount),
        new Long("jit_il_bytes", static (in RuntimeStats s) => s.JitILBytes),
        new Number("jit_time_ms", static (in RuntimeStats s) => s.JitTimeMs),
        new Long("assembly_num", static (in RuntimeStats s) => s.AssemblyCount),
        new Long("exception_num", static (in RuntimeStats s) => s.ExceptionCount),
        new Number("rate_interval_seconds", static (in RuntimeStats s) => s.RateIntervalSeconds),
    ];

    /// <summary>Every key in the order written; the README's table and the tests follow it.</summary>
    internal static readonly string[] Keys = Array.ConvertAll(Fields, static f => f.Name);

    private delegate T Getter<T>(in RuntimeStats stats);

    /// <summary>Writes <paramref name="stats"/> as one JSON object.</summary>
    public static void Write(Utf8JsonWriter w, in RuntimeStats stats)
    {
        w.WriteStartObject();
        WriteFields(w, in stats, null, null);
        w.WriteEndObject();
    }

    /// <summary>
    /// Writes the runtime keys. <paramref name="cache"/>, when given, keeps bytes that change rarely (the <c>gc_pause</c>
    /// arrays) across calls; with <paramref name="gcEvents"/>, <c>gc_pause</c> and its siblings come from the GC events.
    /// </summary>
    internal static void WriteFields(Utf8JsonWriter w, in RuntimeStats stats, JsonStatsWriter? cache, GcEventSnapshot? gcEvents)
    {
        foreach (Field field in Fields)
        {
            field.Write(w, in stats, cache, gcEvents);
        }
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

    /// <summary>Formats pauses as a compact JSON array, each rounded to the microsecond as <c>gc_pause</c> is.</summary>
    internal static byte[] PauseArray(ReadOnlySpan<double> pauses)
    {
        var buffer = new ArrayBufferWriter<byte>(16 + (pauses.Length * 8));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Pauses.WriteArray(writer, pauses);
        }

        return buffer.WrittenSpan.ToArray();
    }

    internal static long UnixNanoseconds(DateTimeOffset time) =>
        (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    /// <summary>One key of the document and how its value is written.</summary>
    private abstract class Field(string name)
    {
        public string Name { get; } = name;

        protected JsonEncodedText Key { get; } = JsonEncodedText.Encode(name);

        public abstract void Write(Utf8JsonWriter w, in RuntimeStats stats, JsonStatsWriter? cache, GcEventSnapshot? gcEvents);
    }

    private sealed class Long(string name, Getter<long> value) : Field(name)
    {
        public override void Write(Utf8JsonWriter w, in RuntimeStats stats, JsonStatsWriter? cache, GcEventSnapshot? gcEvents) => w.WriteNumber(Key, value(in stats));
    }

    private sealed class Number(string name, Getter<double> value, int decimals = 3) : Field(name)
    {
        public override void Write(Utf8JsonWriter w, in RuntimeStats stats, JsonStatsWriter? cache, GcEventSnapshot? gcEvents) =>
            FixedPointJson.Write(w, Key, value(in stats), decimals);
    }

    private sealed class Text(string name, Getter<string> value) : Field(name)
    {
        public override void Write(Utf8JsonWriter w, in RuntimeStats stats, JsonStatsWriter? cache, GcEventSnapshot? gcEvents) => w.WriteString(Key, value(in stats));
    }

    private sealed class Flag(string name, Getter<bool> value) : Field(name)
    {
        public override void Write(Utf8JsonWriter w, in RuntimeStats stats, JsonStatsWriter? cache, GcEventSnapshot? gcEvents) => w.WriteBoolean(Key, value(in stats));
    }

    /// <summary>
    /// <c>gc_pause</c>: up to 256 numbers that change only when a collection ends, so the array is formatted then (the
    /// probe hands out a new array each time) and the bytes reused by every request until the next one.
    /// </summary>
    private sealed class Pauses(string name) : Field(name)
    {
        public override void Write(Utf8JsonWriter w, in RuntimeStats stats, JsonStatsWriter? cache, GcEventSnapshot? gcEvents)
        {
            if (gcEvents is not null)
            {
                // GC events on: every collection's pause, with its generation, reason and number beside it.
                GcEventJsonWriter.Write(w, cache?.GcEventArrays(gcEvents) ?? GcEventJsonWriter.Render(gcEvents.Recent));
                return;
            }

            ReadOnlyMemory<double> pauses = stats.GcPauses;
            if (cache is not null && MemoryMarshal.TryGetArray(pauses, out ArraySegment<double> segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length)
            {
                w.WritePropertyName(Key);
                w.WriteRawValue(cache.PauseArray(segment.Array), skipInputValidation: true);
                return;
            }

            w.WritePropertyName(Key);
            WriteArray(w, pauses.Span);
        }

        internal static void WriteArray(Utf8JsonWriter w, ReadOnlySpan<double> pauses)
        {
            w.WriteStartArray();
            foreach (double pause in pauses)
            {
                FixedPointJson.WriteValue(w, pause, 3);
            }

            w.WriteEndArray();
        }
    }
}
