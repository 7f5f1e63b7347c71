namespace StatsHandler;

/// <summary>
/// One expvar-style value published on a stats source: a name and a callback the capture reads once per request. The
/// callback runs on the request's thread; one that throws is skipped for that response and reported.
/// </summary>
internal sealed class PublishedValue
{
    private readonly Func<long>? _integer;
    private readonly Func<double>? _number;
    private readonly Func<bool>? _boolean;
    private readonly Func<string?>? _text;
    private int _clashReported;

    private PublishedValue(string name, Func<long>? integer, Func<double>? number, Func<bool>? boolean, Func<string?>? text)
    {
        Name = name;
        _integer = integer;
        _number = number;
        _boolean = boolean;
        _text = text;
        Kind = integer is not null ? PublishedKind.WholeNumber
            : number is not null ? PublishedKind.Number
            : boolean is not null ? PublishedKind.Boolean
            : PublishedKind.Text;
        SampleName = PrometheusNames.SampleName(name, PrometheusType);
    }

    /// <summary>The name: the JSON key under <c>published</c>, and the Prometheus family's name.</summary>
    public string Name { get; }

    /// <summary>
    /// The Prometheus sample's name: the name for a gauge, <c>name_info</c> for text (an info family with the text in
    /// its <c>value</c> label).
    /// </summary>
    public string SampleName { get; }

    /// <summary>The Prometheus family type: an info family for text, a gauge for the rest.</summary>
    public string PrometheusType => Kind == PublishedKind.Text ? PrometheusNames.Info : PrometheusNames.Gauge;

    public PublishedKind Kind { get; }

    /// <summary>Set once the clash of this value's Prometheus name with an instrument's has been reported.</summary>
    public bool ClashReported => Volatile.Read(ref _clashReported) != 0;

    /// <summary>True when the value is a gauge in the Prometheus output: numbers, and booleans as 0 or 1.</summary>
    public bool IsNumeric => Kind != PublishedKind.Text;

    /// <summary>True the first time it is called: the clash is reported once.</summary>
    public bool MarkClashReported() => Interlocked.Exchange(ref _clashReported, 1) == 0;

    public static PublishedValue Of(string name, Func<long> value) => new(name, value, null, null, null);

    public static PublishedValue Of(string name, Func<double> value) => new(name, null, value, null, null);

    public static PublishedValue Of(string name, Func<bool> value) => new(name, null, null, value, null);

    public static PublishedValue Of(string name, Func<string?> value) => new(name, null, null, null, value);

    /// <summary>
    /// Returns <paramref name="text"/> with lone surrogates replaced by U+FFFD: the JSON writer rejects them and UTF-8 cannot
    /// carry them. Allocates only when there is a surrogate to check.
    /// </summary>
    public static string ValidUtf16(string text) =>
        text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF')
            ? System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(text))
            : text;

    /// <summary>Calls the callback; false, with <paramref name="error"/> set, when it threw.</summary>
    public bool TryRead(out PublishedReading reading, out Exception? error)
    {
        error = null;
        try
        {
            reading = Kind switch
            {
                PublishedKind.WholeNumber => new PublishedReading(Kind, _integer!(), 0, null),
                PublishedKind.Number => new PublishedReading(Kind, 0, _number!(), null),
                PublishedKind.Boolean => new PublishedReading(Kind, _boolean!() ? 1 : 0, 0, null),
                _ => new PublishedReading(Kind, 0, 0, _text!() is { } text ? ValidUtf16(text) : null),
            };
            return true;
        }
        catch (Exception e)
        {
            // User code: whatever it throws must not fail the response; the caller reports it.
            reading = default;
            error = new InvalidOperationException($"The callback of published value '{Name}' threw, so the value was left out: {e.Message}", e);
            return false;
        }
    }
}

/// <summary>One reading of a published value. <see cref="WholeNumber"/> holds booleans as 0 or 1.</summary>
internal readonly record struct PublishedReading(PublishedKind Kind, long WholeNumber, double Number, string? Text);
