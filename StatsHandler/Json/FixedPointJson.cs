using System.Buffers.Text;
using System.Text.Json;

namespace StatsHandler;

/// <summary>
/// Writes a double rounded to a few decimals as plain fixed-point digits. The shortest round-trip search that
/// <see cref="Utf8JsonWriter.WriteNumberValue(double)"/> makes is the costliest step of a snapshot's JSON, and for a value
/// already rounded to <c>decimals</c> places it finds exactly these digits: below 10^15 such a value has at most 15
/// significant digits, so its decimal form is the only short one that reads back as the same double.
/// </summary>
internal static class FixedPointJson
{
    private static readonly long[] Powers = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

    /// <summary>
    /// Writes <c>Math.Round(value, decimals)</c> as <paramref name="key"/>'s value, and <c>null</c> for NaN or an infinity
    /// (JSON has neither: the document's one rule). Values of 10^15 and more keep the writer's own formatting.
    /// </summary>
    public static void Write(Utf8JsonWriter w, JsonEncodedText key, double value, int decimals)
    {
        w.WritePropertyName(key);
        WriteValue(w, value, decimals);
    }

    /// <summary>Writes <c>Math.Round(value, decimals)</c> as an array item or a property's value; see <see cref="Write"/>.</summary>
    public static void WriteValue(Utf8JsonWriter w, double value, int decimals)
    {
        Span<byte> digits = stackalloc byte[24];
        if (!double.IsFinite(value))
        {
            w.WriteNullValue();
        }
        else if (TryFormat(value, decimals, digits, out int written))
        {
            w.WriteRawValue(digits[..written], skipInputValidation: true);
        }
        else
        {
            w.WriteNumberValue(Math.Round(value, decimals));
        }
    }

    /// <summary>
    /// Formats <c>Math.Round(value, decimals)</c> as digits, a point and the fraction without trailing zeros. False when
    /// the value is not finite, is too large for fixed point (10^15 or more once scaled), or <paramref name="decimals"/>
    /// is outside 0-6.
    /// </summary>
    public static bool TryFormat(double value, int decimals, Span<byte> destination, out int written)
    {
        written = 0;
        if ((uint)decimals >= (uint)Powers.Length || destination.Length < 24)
        {
            return false;
        }

        if (!double.IsFinite(value))
        {
            return false;
        }

        // The same steps as Math.Round(value, decimals): scale, round half to even, and (implicitly) scale back.
        long power = Powers[decimals];
        double scaled = Math.Round(value * power);
        if (Math.Abs(scaled) >= 1e15)
        {
            return false;
        }

        long units = (long)scaled;
        if (units < 0)
        {
            destination[written++] = (byte)'-';
            units = -units;
        }

        long whole = Math.DivRem(units, power, out long fraction);
        Utf8Formatter.TryFormat(whole, destination[written..], out int wholeDigits);
        written += wholeDigits;
        if (fraction == 0)
        {
            return true;
        }

        // The fraction with its leading zeros, then without its trailing ones.
        int fractionDigits = decimals;
        while (fraction % 10 == 0)
        {
            fraction /= 10;
            fractionDigits--;
        }

        destination[written++] = (byte)'.';
        for (int i = fractionDigits - 1; i >= 0; i--)
        {
            destination[written + i] = (byte)('0' + (fraction % 10));
            fraction /= 10;
        }

        written += fractionDigits;
        return true;
    }
}
