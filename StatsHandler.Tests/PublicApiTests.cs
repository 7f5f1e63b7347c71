using PublicApiGenerator;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>
/// Every change to the library's public surface is deliberate: it must show up as a change to
/// PublicApi/StatsHandler.approved.txt in review (serilog's ApiApprovalTests).
/// </summary>
public class PublicApiTests
{
    /// <summary>Set to 1 to accept the current public API: the test overwrites the approved file and passes.</summary>
    public const string ApproveVariable = "STATSHANDLER_APPROVE_API";

    [Test]
    public void Public_api_matches_the_approved_file()
    {
        string folder = Path.Combine(Repository.Root, "StatsHandler.Tests", "PublicApi");
        string approvedPath = Path.Combine(folder, "StatsHandler.approved.txt");
        string receivedPath = Path.Combine(folder, "StatsHandler.received.txt");

        string received = Normalize(typeof(StatsServer).Assembly.GeneratePublicApi(new ApiGeneratorOptions
        {
            // Assembly attributes (InternalsVisibleTo, repository metadata, target framework) are build facts, not API.
            IncludeAssemblyAttributes = false,
        }));

        if (Environment.GetEnvironmentVariable(ApproveVariable) == "1")
        {
            File.WriteAllText(approvedPath, received);
            File.Delete(receivedPath);
            TestContext.Out.WriteLine($"{ApproveVariable}=1: wrote the current public API to {approvedPath}. Review and commit it.");
            return;
        }

        string approved = File.Exists(approvedPath) ? Normalize(File.ReadAllText(approvedPath)) : string.Empty;
        if (received == approved)
        {
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, received);
        Assert.Fail(
            $"The public API of StatsHandler changed.\n" +
            $"  approved: {approvedPath}\n" +
            $"  received: {receivedPath}\n" +
            $"If the change is intended, approve it: copy the received file over the approved one, or run\n" +
            $"  {ApproveVariable}=1 ./build.sh test --filter PublicApi\n" +
            $"and commit the approved file.\n" +
            $"Lines removed (-) and added (+):\n{LineDiff(approved, received)}");
    }

    private static string Normalize(string text) => text.ReplaceLineEndings("\n").TrimEnd('\n') + "\n";

    private static string LineDiff(string approved, string received)
    {
        string[] before = approved.Split('\n');
        string[] after = received.Split('\n');
        var removed = before.Except(after).Select(line => "- " + line);
        var added = after.Except(before).Select(line => "+ " + line);
        return string.Join('\n', removed.Concat(added));
    }
}
