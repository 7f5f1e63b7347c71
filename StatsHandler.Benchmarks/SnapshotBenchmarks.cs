using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;

namespace StatsHandler.Benchmarks;

/// <summary>What one request costs before it reaches the network: capture, and capture plus JSON.</summary>
[MemoryDiagnoser]
public class SnapshotBenchmarks
{
    private RuntimeStatsCollector _collector = null!;
    private RuntimeStatsHandler _handler = null!;
    private RuntimeStats _stats;
    private ArrayBufferWriter<byte> _buffer = null!;
    private Utf8JsonWriter _compact = null!;
    private Utf8JsonWriter _indented = null!;

    [GlobalSetup]
    public void Setup()
    {
        _collector = new RuntimeStatsCollector();
        _handler = new RuntimeStatsHandler();
        _stats = _collector.Capture();
        _buffer = new ArrayBufferWriter<byte>(4096);
        _compact = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
        _indented = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Indented = true, SkipValidation = true });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _collector.Dispose();
        _handler.Dispose();
    }

    [Benchmark(Description = "capture")]
    public RuntimeStats Capture() => _collector.Capture();

    [Benchmark(Description = "json compact")]
    public int WriteCompact() => Write(_compact);

    [Benchmark(Description = "json indented")]
    public int WriteIndented() => Write(_indented);

    [Benchmark(Baseline = true, Description = "capture + json (handler path)")]
    public int CaptureAndWrite()
    {
        JsonBufferPool.Lease lease = _handler.Render(indented: false);
        int length = lease.Buffer.WrittenCount;
        _handler.Return(lease);
        return length;
    }

    private int Write(Utf8JsonWriter writer)
    {
        _buffer.ResetWrittenCount();
        writer.Reset(_buffer);
        RuntimeStatsJsonWriter.Write(writer, in _stats);
        writer.Flush();
        return _buffer.WrittenCount;
    }
}
