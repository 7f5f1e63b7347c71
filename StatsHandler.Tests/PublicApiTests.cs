using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>
/// Every change to the library's public surface is deliberate: it must show up as a change to
/// PublicApi/StatsHandler.approved.txt in review (serilog's ApiApprovalTests).
/// </summary>
public class PublicApiTests
{
    /// <summary>Set to 1 to accept the current public API: the test overwrites the approved file and passes.</summary>
    public const string ApproveVariable = ApiApproval.ApproveVariable;

    [Test]
    public void Public_api_matches_the_approved_file() =>
        ApiApproval.Verify(typeof(StatsServer).Assembly, Path.Combine("StatsHandler.Tests", "PublicApi"), "StatsHandler");
}
