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

    [Test]
    public void The_profiles_url_is_off_by_default_and_written_into_the_page_when_given()
    {
        var handler = new DashboardHandler(new DashboardHandlerOptions { ProfilesUrl = "/debug/pprof" });
        string with = System.Text.Encoding.UTF8.GetString(DashboardPage.Build("/api/stats", "x", "/debug/pprof").Html.Span);
        string without = System.Text.Encoding.UTF8.GetString(DashboardPage.Build("/api/stats", "x").Html.Span);

        new DashboardHandlerOptions().ProfilesUrl.Should().BeNull();
        new DashboardHandler().ProfilesUrl.Should().BeNull();
        handler.ProfilesUrl.Should().Be("/debug/pprof");
        with.Should().Contain("<meta name=\"profiles-url\" content=\"/debug/pprof\">");
        without.Should().Contain("<meta name=\"profiles-url\" content=\"\">", "an empty URL: the script leaves the button hidden");
        without.Should().Contain("<button id=\"profile\" type=\"button\" hidden>CPU profile</button>");
    }

    [TestCase("debug/pprof", "*must start with '/'*")]
    [TestCase("//elsewhere.example/debug/pprof", "*another host*")]
    [TestCase("/debug/pprof?seconds=5", "*takes no query*")]
    [TestCase("/debug/ pprof", "*spaces*")]
    public void A_profiles_url_that_is_not_a_same_origin_path_without_query_is_refused_with_the_reason(string url, string reason)
    {
        Action create = () => _ = new DashboardHandler(new DashboardHandlerOptions { ProfilesUrl = url });

        create.Should().Throw<ArgumentException>()
            .WithMessage($"Invalid DashboardHandlerOptions.ProfilesUrl '{url}'*")
            .WithMessage(reason)
            .WithMessage("*such as '/debug/pprof'*")
            .Which.ParamName.Should().Be("options");
    }

    [Test]
    public void The_title_is_the_option_or_else_the_entry_assemblys_name()
    {
        string entry = System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name ?? "StatsHandler";

        new DashboardHandlerOptions().Title.Should().BeNull();
        new DashboardHandler().Title.Should().Be(entry);
        new DashboardHandler(new DashboardHandlerOptions { Title = "Job queue" }).Title.Should().Be("Job queue");
    }

    [TestCase("", "*blank*")]
    [TestCase("   ", "*blank*")]
    [TestCase("Job\nqueue", "*control character*")]
    public void A_blank_or_unprintable_title_is_refused_with_the_reason(string title, string reason)
    {
        Action create = () => _ = new DashboardHandler(new DashboardHandlerOptions { Title = title });

        create.Should().Throw<ArgumentException>()
            .WithMessage($"Invalid DashboardHandlerOptions.Title*")
            .WithMessage(reason)
            .Which.ParamName.Should().Be("options");
    }

    [Test]
    public void A_title_longer_than_a_heading_can_show_is_refused()
    {
        Action create = () => _ = new DashboardHandler(new DashboardHandlerOptions { Title = new string('x', 101) });

        create.Should().Throw<ArgumentException>().WithMessage("*101 characters long*");
    }
}
