namespace StatsHandler;

/// <summary>
/// One on-demand diagnostic session at a time in the process: a trace (<c>HandleTrace</c>) or a profile
/// (<c>HandleProfiles</c>: CPU, thread stacks, heap), whichever server or route asks. Whoever gets a
/// <see cref="Lease"/> runs; everyone else is told what runs and answers 409.
/// </summary>
/// <remarks>
/// The holder is static, and with the GC event feed's holder it is the library's only static mutable state. That is
/// deliberate: what a session costs is the whole process's, not one server's (the sample profiler walks every
/// managed thread's stack each millisecond, a heap snapshot stops every thread for a full collection, and the
/// runtime caps the sessions a process may have), so two servers in one process, or two routes of one server, must
/// share one gate. It is touched only with <see cref="Interlocked"/>.
/// </remarks>
internal static class DiagnosticGate
{
    private static Lease? s_holder;

    /// <summary>What holds the gate now ("a CPU profile"), or null when it is free.</summary>
    public static string? Running => Volatile.Read(ref s_holder)?.What;

    /// <summary>
    /// Takes the gate for <paramref name="what"/>, a phrase such as <c>a CPU profile</c>; returns null when something
    /// holds it already, with <paramref name="busy"/> the 409's message naming that.
    /// </summary>
    public static Lease? TryEnter(string what, out string? busy)
    {
        var lease = new Lease(what);
        Lease? holder = Interlocked.CompareExchange(ref s_holder, lease, null);
        if (holder is null)
        {
            busy = null;
            return lease;
        }

        busy = $"{holder.What} is already running in this process (one trace or profile at a time); try again when it ends";
        return null;
    }

    /// <summary>The gate held by one session; disposing it frees the gate (once, and only if this lease holds it).</summary>
    internal sealed class Lease(string what) : IDisposable
    {
        /// <summary>What holds the gate, as the 409's message names it.</summary>
        public string What { get; } = what;

        /// <summary>Frees the gate.</summary>
        public void Dispose() => Interlocked.CompareExchange(ref s_holder, null, this);
    }
}
