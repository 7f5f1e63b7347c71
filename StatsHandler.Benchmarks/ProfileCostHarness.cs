using System.Buffers.Binary;
using System.Diagnostics;

namespace StatsHandler.Benchmarks;

/// <summary>
/// <c>./build.sh bench profilecost [threads...]</c>: what a thread-stacks collection and a CPU profile cost the
/// process. With that many extra threads blocked in a wait (default 20, then 200), it takes ten
/// <see cref="ThreadStacks"/> in a row and one 2-second <see cref="CpuProfile"/>, and prints how long each took and
/// how long the runtime was suspended per sample: a second session on the port records the runtime's own
/// suspend/restart events (GCSuspendEEBegin 9 to GCRestartEEEnd 3, reason "other", the sampler's), so the pause is the
/// runtime's measure, not a spinning thread's, which on a shared machine mostly measures the scheduler.
/// </summary>
internal static class ProfileCostHarness
{
    private const int SuspendBegin = 9, RestartEnd = 3, ReasonOther = 0;

    public static int Run(string[] args)
    {
        int[] counts = args.Length > 0 ? args.Select(int.Parse).ToArray() : [20, 200];
        Console.WriteLine($"{Environment.ProcessorCount} processors, .NET {Environment.Version}");
        foreach (int count in counts)
        {
            using var release = new ManualResetEventSlim();
            var threads = Enumerable.Range(0, count).Select(_ => new Thread(() => release.Wait()) { IsBackground = true }).ToArray();
            foreach (Thread t in threads)
            {
                t.Start();
            }

            Console.WriteLine($"== {count} extra threads blocked in a wait");
            ThreadStacks.Collect(CancellationToken.None); // warm: JIT of the reader and the sink
            var took = new List<double>();
            var sampled = new List<double>();
            var listed = new List<int>();
            List<double> pauses = Watch(() =>
            {
                for (int i = 0; i < 10; i++)
                {
                    ThreadStacks stacks = ThreadStacks.Collect(CancellationToken.None);
                    took.Add(stacks.Took.TotalMilliseconds);
                    sampled.Add(stacks.Sampled.TotalMilliseconds);
                    listed.Add(stacks.Threads.Count);
                }
            });
            Console.WriteLine($"ThreadStacks x10: took median {Median(took):F0} ms (max {took.Max():F0}), of which sampling median {Median(sampled):F0} ms; "
                + $"threads listed {listed.Min()}-{listed.Max()}; runtime suspensions {Describe(pauses)}");

            CpuProfile? profile = null;
            pauses = Watch(() => profile = CpuProfile.Collect(TimeSpan.FromSeconds(2), CancellationToken.None));
            Console.WriteLine($"CpuProfile 2 s: {profile!.Samples} cpu + {profile.WaitingSamples} waiting samples, measured interval {profile.PeriodNanos / 1e6:F2} ms; "
                + $"runtime suspensions {Describe(pauses)}");
            release.Set();
            foreach (Thread t in threads)
            {
                t.Join();
            }
        }

        return 0;
    }

    /// <summary>Runs <paramref name="action"/> under a session that records the runtime's suspensions; their lengths in microseconds.</summary>
    private static List<double> Watch(Action action)
    {
        var options = new EventPipeSessionOptions(
            [new EventPipeProvider(EventPipeProvider.Runtime, 0x1, 4, EventIds: [SuspendBegin, RestartEnd])], RundownKeyword: 0, StackWalk: false);
        var sink = new SuspensionSink();
        using (EventPipeSession session = EventPipeSession.Start(options, TimeSpan.FromSeconds(5)))
        {
            Task reading = Task.Factory.StartNew(new NetTraceReader(session.Stream, sink).ReadToEnd, TaskCreationOptions.LongRunning);
            action();
            session.Stop();
            reading.Wait(TimeSpan.FromSeconds(30));
        }

        return sink.Pauses;
    }

    private static string Describe(List<double> pauses)
    {
        if (pauses.Count == 0)
        {
            return "none seen";
        }

        pauses.Sort();
        return $"{pauses.Count}, median {Median(pauses):F0} us, p90 {pauses[(int)(pauses.Count * 0.9)]:F0} us, max {pauses[^1]:F0} us, total {pauses.Sum() / 1000:F1} ms";
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[sorted.Count / 2];
    }

    private sealed class SuspensionSink : INetTraceSink
    {
        private long _ticksPerSecond = Stopwatch.Frequency;
        private long _begin = -1;

        public List<double> Pauses { get; } = [];

        public void OnTrace(in NetTraceInfo info) => _ticksPerSecond = info.TicksPerSecond;

        public void OnEvent(in NetTraceEvent header, ReadOnlySpan<byte> payload)
        {
            int id = header.Metadata?.EventId ?? -1;
            if (id == SuspendBegin)
            {
                _begin = payload.Length >= 4 && BinaryPrimitives.ReadInt32LittleEndian(payload) == ReasonOther ? header.Timestamp : -1;
            }
            else if (id == RestartEnd && _begin >= 0)
            {
                Pauses.Add((header.Timestamp - _begin) * 1e6 / _ticksPerSecond);
                _begin = -1;
            }
        }
    }
}
