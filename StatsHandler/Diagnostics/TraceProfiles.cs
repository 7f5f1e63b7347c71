namespace StatsHandler;

/// <summary>
/// The named sessions a trace can ask for (<c>?profile=</c>): what each records and whether it walks stacks and runs
/// down method names at its end (needed for stacks to resolve to method names).
/// </summary>
internal static class TraceProfiles
{
    /// <summary>The runtime's keywords dotnet-trace records by default: GC, loader, JIT, exceptions, threading, IL maps, compilation.</summary>
    public const ulong DefaultRuntimeKeywords = 0x100003801D;

    private const ulong GcKeyword = 0x1;
    private const ulong ContentionKeyword = 0x4000;
    private const ulong ExceptionKeyword = 0x8000;
    private const int Informational = 4;

    /// <summary>The sample profiler (every managed thread's stack each millisecond) and the runtime's default keywords, with rundown.</summary>
    public static readonly EventPipeSessionOptions Cpu = new(
        [new EventPipeProvider(EventPipeProvider.SampleProfiler, 0, Informational), new EventPipeProvider(EventPipeProvider.Runtime, DefaultRuntimeKeywords, Informational)],
        EventPipeSessionOptions.DefaultRundown,
        StackWalk: true);

    /// <summary>Every collection's events (GC keyword, Informational), no stacks, no rundown: cheap.</summary>
    public static readonly EventPipeSessionOptions Gc = new(
        [new EventPipeProvider(EventPipeProvider.Runtime, GcKeyword, Informational)], RundownKeyword: 0, StackWalk: false);

    /// <summary>Lock contention: each wait's start and end, with the waiting thread's stack.</summary>
    public static readonly EventPipeSessionOptions Contention = new(
        [new EventPipeProvider(EventPipeProvider.Runtime, ContentionKeyword, Informational)], EventPipeSessionOptions.DefaultRundown, StackWalk: true);

    /// <summary>Every exception thrown, its type and message and the throwing stack.</summary>
    public static readonly EventPipeSessionOptions Exceptions = new(
        [new EventPipeProvider(EventPipeProvider.Runtime, ExceptionKeyword, Informational)], EventPipeSessionOptions.DefaultRundown, StackWalk: true);

    /// <summary>The profiles' names, as <c>?profile=</c> takes them.</summary>
    public static readonly string[] Names = ["cpu", "gc", "contention", "exceptions"];

    /// <summary>The profile called <paramref name="name"/>, or null when there is none.</summary>
    public static EventPipeSessionOptions? Find(string name) => name.ToLowerInvariant() switch
    {
        "cpu" => Cpu,
        "gc" => Gc,
        "contention" => Contention,
        "exceptions" => Exceptions,
        _ => null,
    };
}
