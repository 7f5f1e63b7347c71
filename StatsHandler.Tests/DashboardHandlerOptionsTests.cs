namespace StatsHandler.Tests;

public class DashboardHandlerOptionsTests
{
    [Test]
    public void The_default_stats_url_is_where_the_readme_mounts_the_json()
    {
        new DashboardHandlerOptions().StatsUrl.Should().Be("/api/stats");
        new DashboardHandler().StatsUrl.Should().Be("/api/stats");
        new DashboardHandler(new DashboardHandlerOptions { StatsUrl = "/x/stats?pp=0" }).StatsUrl.Should().Be("/x/stats?pp=0");
    }

    [TestCase("", "*empty*")]
    [TestCase("api/stats", "*must start with '/'*")]
    [TestCase("http://elsewhere.example/api/stats", "*must start with '/'*")]
    [TestCase("//elsewhere.example/api/stats", "*another host*")]
    [TestCase("/\\elsewhere.example/api/stats", "*another host*")]
    [TestCase("/api/stats#top", "*fragment*")]
    [TestCase("/api/ stats", "*spaces*")]
    [TestCase("/api/stats\n", "*control characters*")]
    public void A_stats_url_that_is_not_a_same_origin_path_is_refused_with_the_reason(string url, string reason)
    {
        Action create = () => _ = new DashboardHandler(new DashboardHandlerOptions { StatsUrl = url });

        create.Should().Throw<ArgumentException>()
            .WithMessage($"Invalid DashboardHandlerOptions.StatsUrl '{url}'*")
            .WithMessage(reason)
            .WithMessage("*such as '/api/stats'*")
            .Which.ParamName.Should().Be("options");
    }

    [Test]
    public void A_null_stats_url_is_refused()
    {
        Action create = () => _ = new DashboardHandler(new DashboardHandlerOptions { StatsUrl = null! });

        create.Should().Throw<ArgumentException>().WithMessage("*is null*");
    }
}
