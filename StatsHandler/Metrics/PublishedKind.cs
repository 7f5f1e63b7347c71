namespace StatsHandler;

/// <summary>What a published value's callback returns, and so how the formats write it.</summary>
public enum PublishedKind
{
    /// <summary>A whole number (<c>Func&lt;long&gt;</c>).</summary>
    WholeNumber,

    /// <summary>A floating-point number (<c>Func&lt;double&gt;</c>).</summary>
    Number,

    /// <summary>A boolean (<c>Func&lt;bool&gt;</c>).</summary>
    Boolean,

    /// <summary>A string, possibly null (<c>Func&lt;string?&gt;</c>).</summary>
    Text,
}
