using System.Buffers;
using System.Text;
using System.Text.Json;

namespace StatsHandler.Tests;

public class FixedPointJsonTests
{
    [TestCase(0.0, 3, "0")]
    [TestCase(1.0, 3, "1")]
    [TestCase(0.1, 3, "0.1")]
    [TestCase(0.001, 3, "0.001")]
    [TestCase(0.0004, 3, "0")]
    [TestCase(12.3456, 3, "12.346")]
    [TestCase(-2.5, 3, "-2.5")]
    [TestCase(-0.0004, 3, "0")]
    [TestCase(1234567.891, 0, "1234568")]
    [TestCase(2.5, 0, "2")]
    [TestCase(3.5, 0, "4")]
    [TestCase(999999999999.999, 3, "999999999999.999")]
    [TestCase(double.NaN, 3, "null")]
    [TestCase(double.PositiveInfinity, 3, "null")]
    [TestCase(double.NegativeInfinity, 0, "null")]
    public void Formats_the_rounded_value_in_fixed_point(double value, int decimals, string expected)
    {
        Write(value, decimals).Should().Be($$"""{"v":{{expected}}}""");
    }

    [Test]
    public void Writes_the_digits_the_json_writer_writes_for_the_rounded_value()
    {
        // The snapshot's numbers: seconds, percentages, milliseconds and rates, from tiny to huge, either sign.
        var random = new Random(20261127);
        for (int i = 0; i < 20_000; i++)
        {
            int decimals = i % 4 == 0 ? 0 : 3;
            double value = (random.NextDouble() - 0.2) * Math.Pow(10, random.Next(-6, 13));
            double rounded = Math.Round(value, decimals);
            if (rounded == 0)
            {
                // Math.Round keeps the sign of zero, which the writer prints as -0; fixed point prints 0.
                continue;
            }

            Write(value, decimals).Should().Be(Reference(rounded), "value {0:R} with {1} decimals", value, decimals);
        }
    }

    [Test]
    public void Values_too_large_for_fixed_point_keep_the_writers_format()
    {
        Write(1e15, 3).Should().Be(Reference(1e15));
        Write(-3.2e18, 0).Should().Be(Reference(-3.2e18));
        FixedPointJson.TryFormat(1e15, 0, new byte[24], out _).Should().BeFalse();
        FixedPointJson.TryFormat(1.5, 7, new byte[24], out _).Should().BeFalse("only 0-6 decimals are supported");
    }

    private static string Write(double value, int decimals) => Json(w => FixedPointJson.Write(w, JsonEncodedText.Encode("v"), value, decimals));

    private static string Reference(double value) => Json(w => w.WriteNumber("v", value));

    private static string Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
