namespace StatsHandler.Tests.Support;

/// <summary>
/// The test assembly's entry point (instead of the one the test SDK generates, which does nothing): run as
/// <c>dotnet exec StatsHandler.Tests.dll SCENARIO</c>, it plays one named scenario in a process of its own, so a test can
/// set what only a new process can take, such as <c>DOTNET_EnableDiagnostics=0</c>. The scenario writes one line, and
/// the exit code says whether it went as expected (0) or not (1); with no or an unknown scenario it does nothing.
/// </summary>
internal static class ChildProcess
{
    /// <summary>Takes a heap profile and reports how it failed: <c>IOException: message</c>.</summary>
    public const string HeapProfile = "heap-profile";

    public static int Main(string[] args)
    {
        if (args is [HeapProfile])
        {
            try
            {
                StatsHandler.HeapProfile.Collect(CancellationToken.None);
                Console.WriteLine("no exception: the heap profile was taken");
                return 1;
            }
            catch (IOException e)
            {
                Console.WriteLine($"IOException: {e.Message}");
                return 0;
            }
        }

        return 0;
    }

    /// <summary>Runs <paramref name="scenario"/> in a new process with <paramref name="environment"/> added, within <paramref name="bound"/>.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string scenario, TimeSpan bound, params (string Key, string? Value)[] environment) =>
        Repository.RunAsync(
            Repository.Dotnet,
            ["exec", typeof(ChildProcess).Assembly.Location, scenario],
            AppContext.BaseDirectory,
            bound,
            Repository.DotnetEnvironment(environment));
}
