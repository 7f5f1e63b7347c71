using StatsHandler.Tests.Support;

namespace StatsHandler.Hosting.Tests;

/// <summary>
/// Every change to the hosting package's public surface is deliberate: it must show up as a change to
/// PublicApi/StatsHandler.Hosting.approved.txt in review.
/// </summary>
public class PublicApiTests
{
    [Test]
    public void Public_api_matches_the_approved_file() =>
        ApiApproval.Verify(
            typeof(StatsServerService).Assembly,
            Path.Combine("StatsHandler.Hosting.Tests", "PublicApi"),
            "StatsHandler.Hosting",
            "Microsoft.Extensions.DependencyInjection");
}
