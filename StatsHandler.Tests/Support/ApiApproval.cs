using System.Reflection;
using PublicApiGenerator;

namespace StatsHandler.Tests.Support;

/// <summary>
/// Compares an assembly's public API with its approved file (serilog's ApiApprovalTests), so every change to a public
/// surface shows in review. Shared by the core's and the hosting package's tests.
/// </summary>
internal static class ApiApproval
{
    /// <summary>Set to 1 to accept the current public API: the test overwrites the approved file and passes.</summary>
    public const string ApproveVariable = "STATSHANDLER_APPROVE_API";

    /// <summary>
    /// Fails with the changed lines unless <paramref name="assembly"/>'s public API equals <c>{name}.approved.txt</c> in
    /// <paramref name="folder"/> (relative to the repository root).
    /// </summary>
    public static void Verify(Assembly assembly, string folder, string name, params string[] extraNamespaces)
    {
        string directory = Path.Combine(Repository.Root, folder);
        string approvedPath = Path.Combine(directory, name + ".approved.txt");
        string receivedPath = Path.Combine(directory, name + ".received.txt");

        string received = Normalize(assembly.GeneratePublicApi(new ApiGeneratorOptions
        {
            // Assembly attributes (InternalsVisibleTo, repository metadata, target framework) are build facts, not API.
            IncludeAssemblyAttributes = false,
            // Extension classes that live in a Microsoft namespace by convention (AddStatsServer) are API too.
            AllowNamespacePrefixes = extraNamespaces,
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
            $"The public API of {name} changed.\n" +
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
