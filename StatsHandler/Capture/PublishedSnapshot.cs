namespace StatsHandler;

/// <summary>One published value as a capture read it: its name, its kind and what its callback returned.</summary>
public readonly struct PublishedSnapshot
{
    internal PublishedSnapshot(PublishedValue source, PublishedReading reading, bool shadowedInPrometheus)
    {
        Source = source;
        Kind = reading.Kind;
        WholeNumber = reading.WholeNumber;
        Number = reading.Number;
        Text = reading.Text;
        ShadowedInPrometheus = shadowedInPrometheus;
    }

    /// <summary>The name it was published under: a JSON key, and a Prometheus-safe name.</summary>
    public string Name => Source.Name;

    /// <summary>Which of <see cref="WholeNumber"/>, <see cref="Number"/>, <see cref="Boolean"/> or <see cref="Text"/> holds the value.</summary>
    public PublishedKind Kind { get; }

    /// <summary>The value of a whole number, and 1 or 0 for a boolean; 0 for the other kinds.</summary>
    public long WholeNumber { get; }

    /// <summary>The value of a floating-point number (possibly NaN or infinite); 0 for the other kinds.</summary>
    public double Number { get; }

    /// <summary>The value of a boolean; false for the other kinds.</summary>
    public bool Boolean => Kind == PublishedKind.Boolean && WholeNumber != 0;

    /// <summary>The value of a string (lone surrogates replaced by U+FFFD), or null; null for the other kinds.</summary>
    public string? Text { get; }

    /// <summary>The published value, the key a format caches its encoding of the name on.</summary>
    internal PublishedValue Source { get; }

    /// <summary>True when an instrument's Prometheus samples use this value's name, so the Prometheus output leaves it out (reported once).</summary>
    internal bool ShadowedInPrometheus { get; }
}
