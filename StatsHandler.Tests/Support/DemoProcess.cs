using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace StatsHandler.Tests.Support;

/// <summary>The built demo, run as its own process on a free loopback port: the host a user really runs.</summary>
internal sealed partial class DemoProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<Uri> _url = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DemoProcess(Process process) => _process = process;

    /// <summary>The demo's base address, from its "Serving runtime stats on" line.</summary>
    public Uri Url => _url.Task.Result;

    /// <summary>Every line the demo wrote so far, stdout and stderr.</summary>
    public string Output => string.Join('\n', _output);

    public int ExitCode => _process.ExitCode;

    /// <summary>The demo's process id.</summary>
    public int Id => _process.Id;

    public static string DllPath()
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        return Path.Combine(Repository.Root, "StatsHandler.Demo", "bin", configuration, "net10.0", "StatsHandler.Demo.dll");
    }

    /// <summary>Starts the demo on <paramref name="address"/> and returns once it serves.</summary>
    public static Task<DemoProcess> StartAsync(string address = "127.0.0.1:0", params string[] extra) =>
        StartAsync(new Dictionary<string, string>(), address, extra);

    /// <summary>Starts the demo with <paramref name="environment"/> added to its environment, and returns once it serves.</summary>
    public static async Task<DemoProcess> StartAsync(IReadOnlyDictionary<string, string> environment, string address = "127.0.0.1:0", params string[] extra)
    {
        string dll = DllPath();
        File.Exists(dll).Should().BeTrue($"the demo is built with the tests ({dll})");
        var info = new ProcessStartInfo(Repository.Dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach ((string name, string value) in environment)
        {
            info.Environment[name] = value;
        }

        foreach (string a in new[] { "exec", dll, "--addr", address }.Concat(extra))
        {
            info.ArgumentList.Add(a);
        }

        var demo = new DemoProcess(Process.Start(info)!);
        demo._process.OutputDataReceived += (_, e) => demo.OnLine(e.Data);
        demo._process.ErrorDataReceived += (_, e) => demo.OnLine(e.Data);
        demo._process.BeginOutputReadLine();
        demo._process.BeginErrorReadLine();
        try
        {
            await demo._url.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await demo.DisposeAsync();
            throw;
        }

        return demo;
    }

    /// <summary>Sends a POSIX signal (SIGINT 2, SIGTERM 15) as a terminal or a service manager would.</summary>
    public void Signal(int signal)
    {
        using Process kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} failed with exit code {kill.ExitCode}");
        }
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
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        Match m = ServingLine().Match(line);
        if (m.Success)
        {
            _url.TrySetResult(new Uri(m.Groups[1].Value));
        }
    }

    [GeneratedRegex(@"Serving runtime stats on (http://\S+)")]
    private static partial Regex ServingLine();
}
