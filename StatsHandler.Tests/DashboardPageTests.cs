namespace StatsHandler.Tests;

public class DashboardPageTests
{
    [TestCase("dashboard.html")]
    [TestCase("dashboard.css")]
    [TestCase("dashboard.js")]
    public void Each_part_of_the_page_is_embedded_in_the_library(string name)
    {
        DashboardPage.ReadResource(name).Should().NotBeNullOrWhiteSpace();
    }

    [Test]
    public void The_template_has_every_placeholder_and_the_build_fills_them_all()
    {
        string template = DashboardPage.ReadResource("dashboard.html");
        template.Should().Contain("/*{{style}}*/").And.Contain("/*{{script}}*/").And.Contain("{{stats-url}}").And.Contain("{{profiles-url}}");

        string html = System.Text.Encoding.UTF8.GetString(DashboardPage.Build("/api/stats").Html.Span);

        html.Should().NotContain("{{").And.StartWith("<!DOCTYPE html>");
        html.Should().Contain(DashboardPage.ReadResource("dashboard.js")).And.Contain(DashboardPage.ReadResource("dashboard.css"));
    }

    [Test]
    public void The_policy_names_the_hash_of_the_exact_inline_text()
    {
        DashboardPage page = DashboardPage.Build("/api/stats");

        page.ContentSecurityPolicy.Should().Contain($"script-src '{DashboardPage.Sha256(DashboardPage.ReadResource("dashboard.js"))}';");
        page.ContentSecurityPolicy.Should().Contain($"style-src '{DashboardPage.Sha256(DashboardPage.ReadResource("dashboard.css"))}';");
    }

    [Test]
    public void Sha256_gives_the_csp_source_form()
    {
        // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
        DashboardPage.Sha256("alert(1)").Should().Be("sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI=");
    }

    [Test]
    public void The_script_keeps_five_minutes_polls_once_a_second_and_never_overlaps()
    {
        string script = DashboardPage.ReadResource("dashboard.js");

        script.Should().Contain("const HISTORY = 300;").And.Contain("const PERIOD_MS = 1000;");
        script.Should().Contain("if (inFlight) return;").And.Contain("new AbortController()");
        script.Should().NotContain("innerHTML", "markup built from strings could carry the server's text into the page as HTML");
    }
}
