using System.Collections.Concurrent;
using System.Diagnostics;

namespace StatsHandler.Hosting.Tests.Support;

/// <summary>A documentation block emitted by <see cref="SnippetCompiler"/>, run with <c>dotnet exec</c> as its own process.</summary>
internal sealed class SnippetProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private SnippetProcess(Process process) => _process = process;

    /// <summary>Every line written so far, stdout and stderr.</summary>
    public IReadOnlyCollection<string> Lines => _output;

    public string Output => string.Join('\n', _output);

    public int Id => _process.Id;

    public int ExitCode => _process.ExitCode;

    public static SnippetProcess Start(string dll, params string[] arguments)
    {
        var info = new ProcessStartInfo(StatsHandler.Tests.Support.Repository.Dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "exec", dll }.Concat(arguments))
        {
            info.ArgumentList.Add(a);
        }

        var child = new SnippetProcess(Process.Start(info)!);
        child._process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        child._process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Sends a POSIX signal (15 for SIGTERM) as <c>docker stop</c> or systemd would.</summary>
    public void Signal(int signal)
    {
        using Process kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        kill.ExitCode.Should().Be(0, $"kill -{signal} {_process.Id} succeeds");
    }

    /// <summary>Waits for the process to exit; false when <paramref name="bound"/> passes first.</summary>
    public async Task<bool> ExitsWithinAsync(TimeSpan bound)
    {
        using var cts = new CancellationTokenSource(bound);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }
}
