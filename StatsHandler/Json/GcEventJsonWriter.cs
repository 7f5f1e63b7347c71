using System.Buffers;
using System.Text.Json;

namespace StatsHandler;

/// <summary>
/// Writes the <c>gc_pause</c> key from the GC events, with its sibling arrays: <c>gc_pause_gen</c>,
/// <c>gc_pause_reason</c> and <c>gc_pause_num</c> hold the generation, the reason and the number of the collection at
/// the same position. <c>gc_pause</c> keeps its shape (milliseconds, newest first), so existing clients read it as before.
/// </summary>
internal static class GcEventJsonWriter
{
    private static readonly JsonEncodedText PauseKey = JsonEncodedText.Encode("gc_pause");
    private static readonly JsonEncodedText GenerationKey = JsonEncodedText.Encode("gc_pause_gen");
    private static readonly JsonEncodedText ReasonKey = JsonEncodedText.Encode("gc_pause_reason");
    private static readonly JsonEncodedText NumberKey = JsonEncodedText.Encode("gc_pause_num");

    /// <summary>The keys written, in order; the first takes the place of the probe's <c>gc_pause</c>.</summary>
    internal static readonly string[] Keys = ["gc_pause", "gc_pause_gen", "gc_pause_reason", "gc_pause_num"];

    /// <summary>Writes the four keys from <paramref name="arrays"/>, what <see cref="Render"/> made of a log snapshot.</summary>
    public static void Write(Utf8JsonWriter w, byte[][] arrays)
    {
        w.WritePropertyName(PauseKey);
        w.WriteRawValue(arrays[0], skipInputValidation: true);
        w.WritePropertyName(GenerationKey);
        w.WriteRawValue(arrays[1], skipInputValidation: true);
        w.WritePropertyName(ReasonKey);
        w.WriteRawValue(arrays[2], skipInputValidation: true);
        w.WritePropertyName(NumberKey);
        w.WriteRawValue(arrays[3], skipInputValidation: true);
    }

    /// <summary>Formats the four arrays of <paramref name="recent"/>: the writer keeps them until the next collection.</summary>
    public static byte[][] Render(GcCollection[] recent)
    {
        double[] pauses = Array.ConvertAll(recent, static c => c.PauseSeconds * 1000);
        var buffer = new ArrayBufferWriter<byte>(16 + (recent.Length * 20));
        byte[][] arrays = [RuntimeStatsJsonWriter.PauseArray(pauses), [], [], []];
        for (int array = 1; array < arrays.Length; array++)
        {
            buffer.ResetWrittenCount();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartArray();
                foreach (GcCollection c in recent)
                {
                    switch (array)
                    {
                        case 1:
                            writer.WriteNumberValue(c.Generation);
                            break;
                        case 2:
                            writer.WriteStringValue(GcEventLog.ReasonName(c.Reason));
                            break;
                        default:
                            writer.WriteNumberValue(c.Index);
                            break;
                    }
                }

                writer.WriteEndArray();
            }

            arrays[array] = buffer.WrittenSpan.ToArray();
        }

        return arrays;
    }
}
