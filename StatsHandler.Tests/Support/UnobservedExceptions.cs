using System.Collections.Concurrent;

namespace StatsHandler.Tests.Support;

/// <summary>Collects unobserved task exceptions while a test runs; forces finalization before reading them.</summary>
internal sealed class UnobservedExceptions : IDisposable
{
    private readonly ConcurrentQueue<Exception> _seen = new();

    public UnobservedExceptions() => TaskScheduler.UnobservedTaskException += OnUnobserved;

    /// <summary>
    /// How many of the collected exceptions were the managed HttpListener's own. Two kinds, both from a listener closed
    /// while a response was being written, and neither reachable from outside the runtime:
    /// <list type="bullet">
    /// <item>the completion callback of an error answer it writes itself (<c>HttpListenerResponse.Close(byte[], false)</c>):
    /// dotnet/runtime#63247;</item>
    /// <item>the socket send its response stream starts in <c>BeginWriteCore</c> for a client that has gone (broken
    /// pipe, reset): that task is observed only by the stream's <c>EndWriteCore</c>, which returns early once the stream
    /// is closed. The caller's own write (ours, or the listener's <c>SendError</c>) completes as if sent.</item>
    /// </list>
    /// </summary>
    public int RuntimeOwned { get; private set; }

    /// <summary>The unobserved exceptions that did not come from inside HttpListener's own callbacks.</summary>
    public IReadOnlyCollection<Exception> Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Exception[] all = [.. _seen];
        Exception[] ours = all.Where(e => !IsHttpListenerCloseCallback(e)).ToArray();
        RuntimeOwned = all.Length - ours.Length;
        return ours;
    }

    public void Dispose() => TaskScheduler.UnobservedTaskException -= OnUnobserved;

    private static bool IsHttpListenerCloseCallback(Exception e) =>
        e is AggregateException { InnerExceptions: var inner } && inner.Count > 0 && inner.All(x =>
            (x is ObjectDisposedException { ObjectName: "System.Net.HttpListenerResponse" }
                && (x.StackTrace ?? string.Empty).TrimStart().StartsWith("at System.Net.HttpListenerResponse.", StringComparison.Ordinal))
            || (x is System.Net.Sockets.SocketException or IOException && IsCreatedInResponseStreamSend(x.StackTrace)));

    /// <summary>
    /// True when the exception was created by the socket send inside the response stream's <c>BeginWriteCore</c>: its
    /// trace (set where the send failed) runs through the socket's own frames, then that method.
    /// </summary>
    private static bool IsCreatedInResponseStreamSend(string? trace)
    {
        string? firstOutsideSockets = (trace ?? string.Empty)
            .Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(frame => !frame.StartsWith("at System.Net.Sockets.", StringComparison.Ordinal));
        return firstOutsideSockets?.StartsWith("at System.Net.HttpResponseStream.BeginWriteCore(", StringComparison.Ordinal) == true;
    }

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => _seen.Enqueue(e.Exception);
}
