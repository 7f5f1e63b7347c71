using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;

namespace StatsHandler.LineProtocol;

/// <summary>
/// Writes the statistics in InfluxDB's line protocol, one point per line: <c>measurement,tag=v field=1i,other=2.5 ns</c>.
/// The runtime figures are the point <c>dotnet_runtime</c>; the published values the point <c>published</c>; each
/// series of an exported instrument a point named after the instrument, tagged with its meter and its own tags. Every
/// point carries the source's constant labels as tags, and the snapshot's time.
/// Mount it with <c>server.Handle("/influx", new LineProtocolWriter())</c>.
/// </summary>
public sealed class LineProtocolWriter : IStatsWriter
{
    /// <inheritdoc />
    public string Write(StatsSnapshot snapshot, HttpListenerRequest request, IBufferWriter<byte> body)
    {
        var text = new StringBuilder(4096);
        string tags = Tags(snapshot.ConstantLabels);
        long time = (snapshot.Runtime.Time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
        if (snapshot.HasRuntime)
        {
            RuntimeStats s = snapshot.Runtime;
            text.Append("dotnet_runtime").Append(tags).Append(' ')
                .Append("pid=").Append(s.ProcessId).Append("i,")
                .Append("heap_alloc=").Append(s.HeapAllocBytes).Append("i,")
                .Append("gc_num=").Append(s.GcCount).Append("i,")
                .Append("thread_num=").Append(s.ThreadCount).Append("i,")
                .Append("exception_num=").Append(s.ExceptionCount).Append("i,")
                .Append("cpu_usage_percent=").Append(Float(s.CpuUsagePercent))
                .Append(' ').Append(time).Append('\n');
        }

        var fields = new List<string>();
        foreach (PublishedSnapshot value in snapshot.Published)
        {
            string? field = value.Kind switch
            {
                PublishedKind.WholeNumber => value.WholeNumber.ToString(CultureInfo.InvariantCulture) + "i",
                PublishedKind.Number => double.IsFinite(value.Number) ? Float(value.Number) : null,
                PublishedKind.Boolean => value.Boolean ? "true" : "false",
                _ => value.Text is null ? null : "\"" + value.Text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"",
            };
            if (field is not null)
            {
                fields.Add(Escape(value.Name, ",= ") + "=" + field);
            }
        }

        if (fields.Count > 0)
        {
            text.Append("published").Append(tags).Append(' ').AppendJoin(',', fields).Append(' ').Append(time).Append('\n');
        }

        foreach (InstrumentSnapshot instrument in snapshot.Instruments)
        {
            string measurement = Escape(instrument.Instrument.Name, ", ") + tags + ",meter=" + Escape(instrument.Instrument.Meter.Name, ",= ");
            foreach (SeriesSnapshot series in instrument.Series)
            {
                string point = instrument.Kind == InstrumentKind.Histogram
                    ? $"count={series.Count}i,sum={Float(series.Sum)}"
                    : $"value={Float(series.Value)}";
                text.Append(measurement).Append(Tags(series.Tags)).Append(' ').Append(point).Append(' ').Append(time).Append('\n');
            }
        }

        body.Write(Encoding.UTF8.GetBytes(text.ToString()));
        return "text/plain; charset=utf-8";
    }

    /// <summary>Tags as <c>,key=value</c> pairs, sorted by key as InfluxDB prefers.</summary>
    private static string Tags(IReadOnlyList<KeyValuePair<string, string>> tags) => string.Concat(
        tags.Where(t => t.Value.Length > 0).OrderBy(t => t.Key, StringComparer.Ordinal)
            .Select(t => "," + Escape(t.Key, ",= ") + "=" + Escape(t.Value, ",= ")));

    /// <summary>A float field: line protocol has no NaN or infinity, so those are written as 0.</summary>
    private static string Float(double value) => double.IsFinite(value) ? value.ToString("R", CultureInfo.InvariantCulture) : "0";

    private static string Escape(string text, string special)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (special.Contains(c, StringComparison.Ordinal))
            {
                escaped.Append('\\');
            }

            escaped.Append(c == '\n' ? ' ' : c);
        }

        return escaped.ToString();
    }
}
