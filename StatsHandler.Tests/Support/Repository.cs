using System.Diagnostics;
using System.Text;

namespace StatsHandler.Tests.Support;

/// <summary>The source checkout the tests were built from, and a bounded way to run tools in it.</summary>
internal static class Repository
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The folder holding StatsHandler.slnx, found upwards from the test assembly.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>The full path of a program on PATH (with <c>.exe</c> on Windows), or null.</summary>
    public static string? FindOnPath(string name)
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            foreach (string candidate in new[] { Path.Combine(directory, name), Path.Combine(directory, name + ".exe") })
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>The one place the package version is set: &lt;Version&gt; in Directory.Build.props.</summary>
    public static string Version()
    {
        var props = System.Xml.Linq.XDocument.Load(Path.Combine(Root, "Directory.Build.props"));
        return props.Descendants("Version").Single().Value.Trim();
    }

    /// <summary>
    /// Runs a program to completion within <paramref name="timeout"/> (killing its tree past it) and returns its exit
    /// code with stdout and stderr interleaved, for the failure message.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(
        string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout, IDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach ((string key, string? value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{fileName} {string.Join(' ', info.ArgumentList)}' did not finish within {timeout}. Output so far:\n{Read(output)}");
        }

        return (process.ExitCode, Read(output));
    }

    /// <summary>Environment for a child <c>dotnet</c>: drops what <c>dotnet test</c> sets for its own MSBuild.</summary>
    public static Dictionary<string, string?> DotnetEnvironment(params (string Key, string? Value)[] extra)
    {
        var environment = new Dictionary<string, string?>
        {
            ["MSBuildExtensionsPath"] = null,
            ["MSBuildSDKsPath"] = null,
            ["MSBUILD_EXE_PATH"] = null,
            ["MSBuildLoadMicrosoftTargetsReadOnly"] = null,
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        };
        foreach ((string key, string? value) in extra)
        {
            environment[key] = value;
        }

        return environment;
    }

    /// <summary>The dotnet host running these tests (so the same SDK install), else the one on PATH.</summary>
    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Read(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "StatsHandler.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No StatsHandler.slnx above {TestContext.CurrentContext.TestDirectory}: run the tests from a checkout.");
    }
}
