using System.Reflection;

namespace StatsHandler.Tests.Support;

/// <summary>
/// The test assembly run as a program of its own (<c>dotnet exec StatsHandler.Tests.dll SCENARIO</c>), so a test can
/// run library code in a process with another environment, such as the diagnostic port turned off. It replaces the
/// empty entry point the test SDK would generate (<c>GenerateProgramFile</c> is off in the project).
/// </summary>
internal static class TestChild
{
    /// <summary>The exit code of a scenario whose call threw an <see cref="IOException"/>.</summary>
    public const int CaughtIOException = 3;

    /// <summary>Runs a scenario: <c>cpu-profile</c>, <c>thread-stacks</c> or <c>heap-profile</c>; prints what happened and exits 0, or <see cref="CaughtIOException"/>.</summary>
    public static int Main(string[] args)
    {
        try
        {
            switch (args.FirstOrDefault())
            {
                case "cpu-profile":
                    Console.WriteLine($"samples: {CpuProfile.Collect(TimeSpan.FromSeconds(1), CancellationToken.None).Samples}");
                    return 0;
                case "thread-stacks":
                    ThreadStacks.Collect(CancellationToken.None).WriteText(Console.Out);
                    return 0;
                case "heap-profile":
                    Console.WriteLine($"types: {HeapProfile.Collect(CancellationToken.None).Types.Count}");
                    return 0;
                default:
                    Console.Error.WriteLine("usage: StatsHandler.Tests cpu-profile|thread-stacks|heap-profile");
                    return 2;
            }
        }
        catch (IOException e)
        {
            Console.WriteLine($"{e.GetType().Name}: {e.Message}");
            return CaughtIOException;
        }
    }

    /// <summary>Runs <paramref name="scenario"/> in a child process with <paramref name="environment"/> changed; its exit code and output.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string scenario, IDictionary<string, string?> environment) =>
        Repository.RunAsync(
            Repository.Dotnet, ["exec", Assembly.GetExecutingAssembly().Location, scenario], AppContext.BaseDirectory, TimeSpan.FromSeconds(60), environment);
}
