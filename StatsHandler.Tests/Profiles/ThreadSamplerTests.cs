using StatsHandler.Tests.Support;

namespace StatsHandler.Tests.Profiles;

/// <summary>The sampler's sink, fed a session of the test process recorded to memory.</summary>
[NonParallelizable]
public class ThreadSamplerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Test]
    public void Reading_samples_allocates_nothing_per_sample_once_their_stacks_and_methods_are_known()
    {
        byte[] trace;
        using (ProfiledThreads.Spinning())
        {
            trace = Record(TimeSpan.FromSeconds(1));
        }

        var sampler = new ThreadSampler();
        new NetTraceReader(new MemoryStream(trace), sampler).ReadToEnd();
        long samples = sampler.ManagedSamples + sampler.ExternalSamples;

        // The second pass finds every stack and method already known: what it allocates is the pass's fixed cost (the
        // reader's buffer, its metadata records, the module paths), not a cost per sample.
        long before = GC.GetAllocatedBytesForCurrentThread();
        new NetTraceReader(new MemoryStream(trace), sampler).ReadToEnd();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        TestContext.Out.WriteLine($"{trace.Length} bytes of trace, {samples} samples, {sampler.Stacks.Count} distinct stacks, {sampler.Methods.Count} methods; second pass allocated {allocated} bytes");
        samples.Should().BeGreaterThan(500, "a second of sampling every thread");
        (sampler.ManagedSamples + sampler.ExternalSamples).Should().Be(2 * samples, "the second pass counts the same samples again");
        allocated.Should().BeLessThan(256 * 1024 + samples, "less than a byte per sample beyond the pass's fixed cost");
    }

    /// <summary>A sampling session of this process, its raw nettrace copied to memory.</summary>
    private static byte[] Record(TimeSpan length)
    {
        using var copy = new MemoryStream();
        using (EventPipeSession session = EventPipeSession.Start(ThreadSampler.Options, Bound))
        {
            Task reading = Task.Factory.StartNew(() => session.Stream.CopyTo(copy), TaskCreationOptions.LongRunning);
            reading.Wait(length).Should().BeFalse("the session streams until it is stopped");
            session.Stop().Should().BeTrue();
            reading.Wait(Bound).Should().BeTrue("the stream ends after the stop and the rundown");
        }

        return copy.ToArray();
    }
}
