using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace StatsHandler;

/// <summary>
/// A growable UTF-8 buffer rented from <see cref="ArrayPool{T}.Shared"/> that the Prometheus writers fill: numbers
/// are formatted straight into it, label values and help texts are escaped as they are copied. Dispose returns the
/// array to the pool. One per scrape; not thread-safe.
/// </summary>
internal sealed class PrometheusBuffer : IDisposable
{
    private byte[] _buffer;
    private int _length;

    public PrometheusBuffer(int initialSize) => _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialSize, 256));

    /// <summary>The bytes written so far.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public int Length => _length;

    /// <summary>The size of the array behind the buffer.</summary>
    public int Capacity => _buffer.Length;

    /// <summary>Empties the buffer and keeps its array, for the next scrape.</summary>
    public void Reset() => _length = 0;

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _length += bytes.Length;
    }

    public void Write(byte b)
    {
        GetSpan(1)[0] = b;
        _length++;
    }

    /// <summary>Writes an integer in decimal.</summary>
    public void Write(long value)
    {
        Span<byte> span = GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out int written);
        _length += written;
    }

    /// <summary>
    /// Writes a float as the exposition formats spell it: shortest round-trip digits, <c>NaN</c>, <c>+Inf</c> or <c>-Inf</c>.
    /// With <paramref name="forceDecimalPoint"/> an integral value gets <c>.0</c> (OpenMetrics' canonical <c>le</c> values).
    /// </summary>
    public void Write(double value, bool forceDecimalPoint = false)
    {
        if (double.IsNaN(value))
        {
            Write("NaN"u8);
            return;
        }

        if (double.IsInfinity(value))
        {
            Write(value > 0 ? "+Inf"u8 : "-Inf"u8);
            return;
        }

        Span<byte> span = GetSpan(32);
        value.TryFormat(span, out int written, "R", CultureInfo.InvariantCulture);
        if (forceDecimalPoint && span[..written].IndexOfAny((byte)'.', (byte)'E') < 0)
        {
            span[written++] = (byte)'.';
            span[written++] = (byte)'0';
        }

        _length += written;
    }

    /// <summary>Writes ASCII or other text as UTF-8, unescaped: metric and label names, already sanitised.</summary>
    public void WriteText(string text)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        _length += Encoding.UTF8.GetBytes(text, GetSpan(max));
    }

    /// <summary>Writes a label value with <c>\</c>, <c>"</c> and line feed escaped, as both formats require.</summary>
    public void WriteLabelValue(string value) => WriteEscaped(value, escapeQuote: true);

    /// <summary>Writes a <c># HELP</c> text with <c>\</c> and line feed escaped (quotes are literal there in 0.0.4).</summary>
    public void WriteHelp(string value, bool escapeQuote) => WriteEscaped(value, escapeQuote);

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        _length = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void WriteEscaped(string value, bool escapeQuote)
    {
        ReadOnlySpan<char> rest = value;
        while (!rest.IsEmpty)
        {
            int special = escapeQuote ? rest.IndexOfAny('\\', '"', '\n') : rest.IndexOfAny('\\', '\n');
            ReadOnlySpan<char> plain = special < 0 ? rest : rest[..special];
            if (!plain.IsEmpty)
            {
                int max = Encoding.UTF8.GetMaxByteCount(plain.Length);
                _length += Encoding.UTF8.GetBytes(plain, GetSpan(max));
            }

            if (special < 0)
            {
                return;
            }

            Write(rest[special] switch
            {
                '\\' => "\\\\"u8,
                '"' => "\\\""u8,
                _ => "\\n"u8,
            });
            rest = rest[(special + 1)..];
        }
    }

    private Span<byte> GetSpan(int size)
    {
        if (_buffer.Length - _length < size)
        {
            byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + size));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = bigger;
        }

        return _buffer.AsSpan(_length);
    }
}
