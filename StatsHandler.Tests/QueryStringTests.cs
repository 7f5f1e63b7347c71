namespace StatsHandler.Tests;

public class QueryStringTests
{
    [TestCase("/api/stats?pp=1", true)]
    [TestCase("/api/stats?pp=true", true)]
    [TestCase("/api/stats?pp=TRUE", true)]
    [TestCase("/api/stats?x=2&pp=1", true)]
    [TestCase("/api/stats?pp=%31", true)]
    [TestCase("/api/stats?pp=0", false)]
    [TestCase("/api/stats?pp=false", false)]
    [TestCase("/api/stats?pp=", false)]
    [TestCase("/api/stats?pp", false)]
    [TestCase("/api/stats?ppp=1", false)]
    [TestCase("/api/stats?pp=0&pp=1", false)]
    [TestCase("/api/stats?pp=%zz", false)]
    [TestCase("/api/stats?pp=%", false)]
    [TestCase("/api/stats", false)]
    [TestCase("/api/stats#pp=1", false)]
    [TestCase(null, false)]
    public void Pretty_print_flag_reads_the_first_pp_parameter(string? rawUrl, bool expected)
    {
        QueryString.IsTrue(rawUrl, "pp").Should().Be(expected);
    }
}
