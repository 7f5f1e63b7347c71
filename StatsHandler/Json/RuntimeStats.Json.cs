namespace StatsHandler;

/// <summary>The JSON form of <see cref="RuntimeStats"/>: written by the Json room, so the runtime probes use no format.</summary>
public readonly partial struct RuntimeStats
{
    /// <summary>Writes the snapshot as one JSON object, keys in the documented order.</summary>
    /// <param name="writer">The writer to write to; its options decide indentation.</param>
    /// <exception cref="ArgumentNullException"><paramref name="writer"/> is null.</exception>
    public void WriteJson(System.Text.Json.Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        RuntimeStatsJsonWriter.Write(writer, in this);
    }

    /// <summary>Returns the snapshot as a JSON string, keys in the documented order.</summary>
    /// <param name="indented">True to indent the output for people to read.</param>
    public string ToJson(bool indented = false) => RuntimeStatsJsonWriter.ToJson(in this, indented);

    /// <inheritdoc />
    public override string ToString() => ToJson();
}
