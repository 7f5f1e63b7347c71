using System.IO.Pipes;
using System.Net.Sockets;

namespace StatsHandler;

/// <summary>
/// Finds and connects to this process's own diagnostic port: the Unix domain socket
/// <c>dotnet-diagnostic-{pid}-{key}-socket</c> in <c>$TMPDIR</c> (or <c>/tmp</c>) on Linux and macOS, the named pipe
/// <c>dotnet-diagnostic-{pid}</c> on Windows (dotnet/diagnostics <c>documentation/design-docs/ipc-protocol.md</c>,
/// "Transport"). Each connection carries one command and its reply; a tracing session keeps its connection.
/// </summary>
internal static class DiagnosticPort
{
    /// <summary>
    /// Says why the port cannot be used, or returns null when it can: the environment turned it off, or no socket of
    /// this process exists (a read-only or private temp folder, or a runtime without the diagnostic server).
    /// </summary>
    public static string? Unavailable()
    {
        foreach (string name in (string[])["DOTNET_EnableDiagnostics", "DOTNET_EnableDiagnostics_IPC", "COMPlus_EnableDiagnostics"])
        {
            if (Environment.GetEnvironmentVariable(name) is "0")
            {
                return $"{name}=0 turns the diagnostic port off";
            }
        }

        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        return SocketPath() is null ? $"no diagnostic socket of process {Environment.ProcessId} in {TempFolder()}" : null;
    }

    /// <summary>Opens a new connection to the port.</summary>
    /// <exception cref="IOException">The port is missing or refused the connection; the message says which.</exception>
    public static Stream Connect(TimeSpan timeout)
    {
        if (OperatingSystem.IsWindows())
        {
            var pipe = new NamedPipeClientStream(".", $"dotnet-diagnostic-{Environment.ProcessId}", PipeDirection.InOut, PipeOptions.Asynchronous);
            try
            {
                pipe.Connect(timeout);
                return pipe;
            }
            catch (Exception e) when (e is TimeoutException or IOException or UnauthorizedAccessException)
            {
                pipe.Dispose();
                throw new IOException($"The diagnostic pipe dotnet-diagnostic-{Environment.ProcessId} did not accept a connection: {e.Message}", e);
            }
        }

        string path = SocketPath() ?? throw new IOException(
            $"No diagnostic socket of process {Environment.ProcessId} in {TempFolder()}: the runtime did not create one "
            + "(DOTNET_EnableDiagnostics=0, a read-only temp folder, or a runtime without the diagnostic server).");
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.SendTimeout = (int)timeout.TotalMilliseconds;
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new IOException($"The diagnostic socket {path} refused the connection: {e.Message}", e);
        }
    }

    /// <summary>The folder the runtime puts its socket in: <c>$TMPDIR</c>, or <c>/tmp</c> when that is unset or empty.</summary>
    internal static string TempFolder() =>
        Environment.GetEnvironmentVariable("TMPDIR") is { Length: > 0 } tmp ? tmp : "/tmp";

    /// <summary>
    /// The socket of this process: the one whose key is this process's start time when several carry its id (a process
    /// that died with the same id left its socket behind), else the newest; null when there is none.
    /// </summary>
    internal static string? SocketPath()
    {
        string[] candidates;
        try
        {
            candidates = Directory.GetFiles(TempFolder(), $"dotnet-diagnostic-{Environment.ProcessId}-*-socket");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        if (candidates.Length <= 1)
        {
            return candidates.Length == 1 ? candidates[0] : null;
        }

        if (StartTimeKey() is { } key)
        {
            string exact = Path.Combine(TempFolder(), $"dotnet-diagnostic-{Environment.ProcessId}-{key}-socket");
            if (Array.IndexOf(candidates, exact) >= 0)
            {
                return exact;
            }
        }

        return candidates.MaxBy(File.GetLastWriteTimeUtc);
    }

    /// <summary>The start time in clock ticks since boot, the runtime's key on Linux (<c>/proc/self/stat</c> field 22).</summary>
    private static string? StartTimeKey()
    {
        try
        {
            string stat = File.ReadAllText("/proc/self/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 ? fields[19] : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
