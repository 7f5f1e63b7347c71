using System.Text;

namespace StatsHandler.Tests;

public class PrometheusBufferTests
{
    [TestCase(0.0, false, "0")]
    [TestCase(1.0, true, "1.0")]
    [TestCase(0.005, true, "0.005")]
    [TestCase(-2.5, false, "-2.5")]
    [TestCase(1e21, true, "1E+21")]
    [TestCase(double.NaN, false, "NaN")]
    [TestCase(double.PositiveInfinity, true, "+Inf")]
    [TestCase(double.NegativeInfinity, false, "-Inf")]
    [TestCase(0.1 + 0.2, false, "0.30000000000000004")]
    public void Floats_are_written_as_the_formats_spell_them(double value, bool forceDecimalPoint, string expected)
    {
        using var buffer = new PrometheusBuffer(16);

        buffer.Write(value, forceDecimalPoint);

        Encoding.UTF8.GetString(buffer.WrittenSpan).Should().Be(expected);
    }

    [Test]
    public void Label_values_escape_backslash_quote_and_newline_and_keep_unicode()
    {
        using var buffer = new PrometheusBuffer(4);

        buffer.WriteLabelValue("a\\b\"c\nd ✓ é");

        Encoding.UTF8.GetString(buffer.WrittenSpan).Should().Be("a\\\\b\\\"c\\nd ✓ é");
    }

    [Test]
    public void Help_text_escapes_quotes_only_for_openmetrics()
    {
        using var text = new PrometheusBuffer(4);
        using var openMetrics = new PrometheusBuffer(4);

        text.WriteHelp("say \"hi\"\\\n", escapeQuote: false);
        openMetrics.WriteHelp("say \"hi\"\\\n", escapeQuote: true);

        Encoding.UTF8.GetString(text.WrittenSpan).Should().Be("say \"hi\"\\\\\\n");
        Encoding.UTF8.GetString(openMetrics.WrittenSpan).Should().Be("say \\\"hi\\\"\\\\\\n");
    }

    [Test]
    public void The_buffer_grows_past_its_initial_size_keeping_what_was_written()
    {
        using var buffer = new PrometheusBuffer(1);
        var expected = new StringBuilder();

        for (long i = 0; i < 10_000; i++)
        {
            buffer.Write(i);
            buffer.Write((byte)'\n');
            expected.Append(i).Append('\n');
        }

        Encoding.UTF8.GetString(buffer.WrittenSpan).Should().Be(expected.ToString());
    }
}
