using System.Diagnostics;

namespace StatsHandler.Tests.Support;

/// <summary>Runs a tool (promtool, a Python parser) with text on its standard input, within the test bound.</summary>
internal static class Piped
{
    /// <summary>Runs <paramref name="file"/> with <paramref name="arguments"/>, writes <paramref name="input"/> to it, and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] arguments, string input)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TestServers.Bound);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, ((await stdout) + (await stderr)).Trim());
    }
}
