using StatsHandler.Tests.Support;

namespace StatsHandler.Tests.Diagnostics;

/// <summary>The hand-written nettrace reader over real traces of the test process itself.</summary>
[NonParallelizable]
public class NetTraceReaderTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Test]
    public async Task A_sampled_trace_with_stacks_and_rundown_parses_to_the_end_with_every_kind_of_block()
    {
        byte[] trace = await RecordAsync(TraceProfiles.Cpu);
        var sink = CountingSink.Read(new MemoryStream(trace));

        TestContext.Out.WriteLine(string.Join(", ", sink.ByEvent.OrderByDescending(e => e.Value).Take(12).Select(e => $"{e.Key.Provider}/{e.Key.EventId}x{e.Value}")));
        TestContext.Out.WriteLine($"{trace.Length} bytes, {sink.Events} events, {sink.Metadata.Count} kinds, {sink.Stacks} stacks, {sink.SequencePoints} sequence points");
        sink.Info.ProcessId.Should().Be(Environment.ProcessId);
        sink.Info.PointerSize.Should().Be(IntPtr.Size);
        sink.Count(EventPipeProvider.SampleProfiler, 0).Should().BePositive("the sample profiler's thread samples (ThreadSample, id 0)");
        sink.Count(EventPipeProvider.Rundown, 144).Should().BePositive("the rundown names the methods (MethodDCEndVerbose)");
        sink.Stacks.Should().BePositive("samples carry stacks");
        sink.SequencePoints.Should().BePositive("the runtime ends a stream with a sequence point");
        sink.Metadata.Should().Contain(m => m.Provider == EventPipeProvider.SampleProfiler);
    }

    [Test]
    public async Task A_trace_cut_short_ends_in_an_error_naming_where_not_in_a_wrong_event()
    {
        byte[] trace = await RecordAsync(TraceProfiles.Gc);
        for (int cut = trace.Length / 3; cut < trace.Length - 1; cut += trace.Length / 3)
        {
            var reader = new NetTraceReader(new MemoryStream(trace, 0, cut), new CountingSink());
            Action read = reader.ReadToEnd;
            read.Should().Throw<InvalidDataException>().WithMessage("*ended inside*");
        }
    }

    [Test]
    public void Bytes_that_are_not_a_trace_are_refused_at_the_start()
    {
        var reader = new NetTraceReader(new MemoryStream("HTTP/1.1 200 OK\r\n\r\nnot a trace at all"u8.ToArray()), new CountingSink());
        Action read = reader.ReadToEnd;
        read.Should().Throw<InvalidDataException>().WithMessage("*Nettrace*");
    }

    /// <summary>Records a trace of this process with <paramref name="options"/> while it does some work.</summary>
    internal static async Task<byte[]> RecordAsync(EventPipeSessionOptions options)
    {
        using EventPipeSession session = EventPipeSession.Start(options, Bound);
        var copy = new MemoryStream();
        Task copying = session.Stream.CopyToAsync(copy);
        object? sink = null;
        long until = Environment.TickCount64 + 300;
        while (Environment.TickCount64 < until)
        {
            sink = new byte[10_000];
        }

        GC.KeepAlive(sink);
        GC.Collect();
        session.Stop().Should().BeTrue();
        await copying.WaitAsync(Bound);
        return copy.ToArray();
    }
}
