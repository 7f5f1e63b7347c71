using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;

namespace StatsHandler.Benchmarks;

/// <summary>
/// Our own share of the GC events' cost, apart from the runtime's: the events of one real gen0 collection, captured
/// once, replayed into our listener's <c>OnEventWritten</c>. A bare listener's <c>OnEventWritten</c> costs nothing,
/// so this is all that <c>EnableGcEvents</c> adds per collection on top of what any in-process listener costs.
/// </summary>
[MemoryDiagnoser]
public class GcEventDispatchBenchmarks
{
    private const int GCRestartEEEnd = 3;

    private EventWrittenEventArgs[] _events = [];
    private IDisposable? _subscription;
    private GcEventListener? _listener;

    [GlobalSetup]
    public void Setup()
    {
        using (var capture = new CapturingListener())
        {
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
            var bound = Stopwatch.StartNew();
            while (!capture.Seen(GCRestartEEEnd) && bound.Elapsed < TimeSpan.FromSeconds(10))
            {
                Thread.Yield();
            }

            _events = capture.Events();
        }

        if (!_events.Any(e => e.EventId == GCRestartEEEnd))
        {
            throw new InvalidOperationException("No GC events arrived within 10 s: cannot replay a collection.");
        }

        _subscription = GcEventFeed.Subscribe(new GcEventLog(), GcEventSourceKind.EventListener);
        _listener = (GcEventListener)GcEventFeed.Current(GcEventSourceKind.EventListener)!.Source!;
        Console.WriteLine($"// Replaying {_events.Length} events: {string.Join(", ", _events.Select(e => e.EventName))}");
    }

    [GlobalCleanup]
    public void Cleanup() => _subscription?.Dispose();

    /// <summary>Every event of one gen0 collection through our <c>OnEventWritten</c>, as the dispatch thread calls it.</summary>
    [Benchmark]
    public void OneCollection()
    {
        foreach (EventWrittenEventArgs e in _events)
        {
            OnEventWritten(_listener!, e);
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "OnEventWritten")]
    private static extern void OnEventWritten(EventListener listener, EventWrittenEventArgs eventData);

    private sealed class CapturingListener : EventListener
    {
        private readonly Lock _lock = new();
        private readonly List<EventWrittenEventArgs> _events = [];
        private bool _started;

        public bool Seen(int eventId)
        {
            lock (_lock)
            {
                return _events.Any(e => e.EventId == eventId);
            }
        }

        public EventWrittenEventArgs[] Events()
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Informational, (EventKeywords)0x1);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            lock (_lock)
            {
                // From the first suspension on: one whole collection, in the order the runtime wrote it.
                _started |= eventData.EventId == 9 || eventData.EventId == 35;
                if (_started && !_events.Any(e => e.EventId == GCRestartEEEnd))
                {
                    _events.Add(eventData);
                }
            }
        }
    }
}
