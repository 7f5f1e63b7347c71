using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>
/// <c>./build.sh test</c> as CONTRIBUTING.md uses it: dotnet test exits 0 when a filter matches nothing, so the script
/// must fail such a run itself, or a misspelt filter passes for a green run.
/// </summary>
[Platform("Linux,MacOsX")]
public class BuildScriptTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(180);

    [Test]
    [CancelAfter(200_000)]
    public async Task A_filter_that_matches_no_test_in_either_project_fails_the_run()
    {
        (int exitCode, string output) = await RunTestVerbAsync("FullyQualifiedName~NoTestIsNamedLikeThis");

        exitCode.Should().Be(3, $"no test ran. Output:\n{output}");
        output.Should().Contain("error: no test in either project matches the filter");
    }

    [Test]
    [CancelAfter(200_000)]
    public async Task A_filter_that_matches_tests_in_one_project_only_passes()
    {
        // This class's own test lives in StatsHandler.Tests alone; the hosting tests match nothing, which is fine.
        (int exitCode, string output) = await RunTestVerbAsync("FullyQualifiedName~BuildScriptTests.A_filter_that_matches_no_test_in_either_project_fails_the_run");

        exitCode.Should().Be(0, $"one test ran and passed. Output:\n{output}");
        output.Should().NotContain("error: no test in either project");
    }

    private static Task<(int ExitCode, string Output)> RunTestVerbAsync(string filter)
    {
        // The script tests the Release build, already built when these tests run from it: --no-build.
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        if (configuration != "Release")
        {
            Assert.Ignore($"./build.sh test runs the Release build; these tests run from {configuration}.");
        }

        return Repository.RunAsync(
            "bash",
            ["build.sh", "test", "--no-build", "--filter", filter],
            Repository.Root,
            Bound,
            Repository.DotnetEnvironment());
    }
}
