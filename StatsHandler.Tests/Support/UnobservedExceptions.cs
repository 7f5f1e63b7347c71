using System.Collections.Concurrent;

namespace StatsHandler.Tests.Support;

/// <summary>Collects unobserved task exceptions while a test runs; forces finalization before reading them.</summary>
internal sealed class UnobservedExceptions : IDisposable
{
    private readonly ConcurrentQueue<Exception> _seen = new();

    public UnobservedExceptions() => TaskScheduler.UnobservedTaskException += OnUnobserved;

    /// <summary>
    /// How many of the collected exceptions were the managed HttpListener's own, from the completion callback of an
    /// error answer it writes itself (<c>HttpListenerResponse.Close(byte[], false)</c>) when the listener is closed
    /// under it: dotnet/runtime#63247. No code outside the runtime can observe those.
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
            x is ObjectDisposedException { ObjectName: "System.Net.HttpListenerResponse" }
            && (x.StackTrace ?? string.Empty).TrimStart().StartsWith("at System.Net.HttpListenerResponse.", StringComparison.Ordinal));

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => _seen.Enqueue(e.Exception);
}
