namespace StatsHandler;

/// <summary>
/// Writes the families only GC events make possible: <c>dotnet_gc_pause_seconds</c>, a histogram of every
/// collection's pause, and <c>dotnet_gc_collections_by_reason</c>, collections counted by why they ran.
/// </summary>
internal static class GcEventPrometheusWriter
{
    private static readonly PrometheusHeader PauseHistogram = PrometheusHeader.Create(
        PrometheusNames.GcPauseSeconds, PrometheusNames.Histogram,
        "Pause of every garbage collection since GC events were enabled, from the runtime's GC events: suspension start to restart end; a background collection's suspensions summed (JSON gc_pause).");

    private static readonly PrometheusHeader ByReason = PrometheusHeader.Create(
        PrometheusNames.GcCollectionsByReason, PrometheusNames.Counter,
        "Garbage collections since GC events were enabled, by the reason the runtime gave (JSON gc_pause_reason).");

    // le values valid in both formats (OpenMetrics wants a decimal point on integral bounds).
    private static readonly byte[][] BucketLabels = [.. GcEventLog.BucketBounds.Append(double.PositiveInfinity).Select(Le)];

    private static readonly byte[] SumName = Encode(PrometheusNames.SumSample(PrometheusNames.GcPauseSeconds) + " ");

    private static readonly byte[] CountName = Encode("\n" + PrometheusNames.CountSample(PrometheusNames.GcPauseSeconds) + " ");

    private static readonly byte[] ByReasonPrefix = Encode(
        PrometheusNames.SampleName(PrometheusNames.GcCollectionsByReason, PrometheusNames.Counter) + "{gc_reason=\"");

    /// <summary>Writes both families from the log's snapshot the capture took.</summary>
    public static void Write(PrometheusBuffer b, bool openMetrics, GcEventSnapshot snapshot)
    {
        b.Write(PauseHistogram.For(openMetrics));
        long cumulative = 0;
        for (int i = 0; i < BucketLabels.Length; i++)
        {
            cumulative += snapshot.Buckets[i];
            b.Write(BucketLabels[i]);
            b.Write(cumulative);
            b.Write((byte)'\n');
        }

        b.Write(SumName);
        b.Write(snapshot.PauseSum);
        b.Write(CountName);
        b.Write(snapshot.Count);
        b.Write((byte)'\n');

        b.Write(ByReason.For(openMetrics));
        foreach ((string reason, long count) in snapshot.Reasons)
        {
            b.Write(ByReasonPrefix);
            b.WriteLabelValue(reason);
            b.Write("\"} "u8);
            b.Write(count);
            b.Write((byte)'\n');
        }
    }

    private static byte[] Le(double bound)
    {
        using var buffer = new PrometheusBuffer(64);
        buffer.WriteText(PrometheusNames.BucketSample(PrometheusNames.GcPauseSeconds));
        buffer.Write("{le=\""u8);
        buffer.Write(bound, forceDecimalPoint: true);
        buffer.Write("\"} "u8);
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Encode(string text) => System.Text.Encoding.UTF8.GetBytes(text);
}
