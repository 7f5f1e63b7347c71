namespace StatsHandler;

/// <summary>
/// One time series of an exported instrument: one tag set and its value, or its histogram counts. Guarded by the
/// owning <see cref="InstrumentState"/>'s lock.
/// </summary>
internal sealed class MeterSeries
{
    public MeterSeries(KeyValuePair<string, string>[] tags, byte[] encodedLabels, int bucketCount)
    {
        Tags = tags;
        EncodedLabels = encodedLabels;
        Buckets = bucketCount > 0 ? new long[bucketCount] : [];
    }

    /// <summary>The tags as measured (key, value as text), sorted by key; the JSON document shows these.</summary>
    public KeyValuePair<string, string>[] Tags { get; }

    /// <summary>The Prometheus labels, <c>a="x",b="y"</c> with names sanitised and values escaped; empty for no tags.</summary>
    public byte[] EncodedLabels { get; }

    /// <summary>The sum (counters), or the last value (gauges, observable instruments).</summary>
    public double Value { get; set; }

    /// <summary>Histogram: observations recorded.</summary>
    public long Count { get; set; }

    /// <summary>Histogram: sum of the observations.</summary>
    public double Sum { get; set; }

    /// <summary>Histogram: observations per bucket (not cumulative); the last one is above the highest bound.</summary>
    public long[] Buckets { get; }
}
