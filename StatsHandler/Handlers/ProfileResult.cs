using System.Text.Json;

namespace StatsHandler;

/// <summary>
/// One collected profile, as the forms a profile route can send it in: the gzipped pprof bytes (when the profile has
/// that form), JSON, and text (when it has that form). The route picks one by the request's <c>?format=</c>.
/// </summary>
internal sealed class ProfileResult(Action<Utf8JsonWriter> writeJson, Func<byte[]>? toPprof = null, Action<TextWriter>? writeText = null)
{
    /// <summary>Writes the profile as one JSON value.</summary>
    public Action<Utf8JsonWriter> WriteJson { get; } = writeJson;

    /// <summary>The gzipped <c>profile.proto</c>, or null when the profile has no pprof form (thread stacks).</summary>
    public Func<byte[]>? ToPprof { get; } = toPprof;

    /// <summary>Writes the profile as text, or null when it has no text form (the CPU profile).</summary>
    public Action<TextWriter>? WriteText { get; } = writeText;
}
