namespace StatsHandler;

/// <summary>Writes a server's published values and exported instruments as Prometheus families.</summary>
internal static class ExportsPrometheusWriter
{
    /// <summary>
    /// Writes numeric published values as gauges, then each instrument that has a series, then the dropped-series
    /// counter. A published value whose callback throws is left out and reported; one whose name an instrument uses is
    /// left out of this format (the JSON document still shows it).
    /// </summary>
    public static void Write(PrometheusBuffer b, bool openMetrics, ServerExports exports)
    {
        MeterBridge? meters = exports.Meters;
        foreach (PublishedValue value in exports.Published)
        {
            if (!value.IsNumeric || (meters is not null && meters.Claims(value.Name)))
            {
                continue;
            }

            if (!value.TryRead(out PublishedReading reading, out Exception? error))
            {
                exports.Report(error!);
                continue;
            }

            b.Write(value.Header.For(openMetrics));
            b.Write(value.EncodedName);
            b.Write((byte)' ');
            if (reading.Kind == PublishedKind.Number)
            {
                b.Write(reading.Number);
            }
            else
            {
                b.Write(reading.Integer);
            }

            b.Write((byte)'\n');
        }

        if (meters is null)
        {
            return;
        }

        InstrumentState[] instruments = meters.Instruments;
        foreach (InstrumentState instrument in instruments)
        {
            WriteInstrument(b, openMetrics, instrument);
        }

        if (instruments.Length == 0)
        {
            return;
        }

        b.Write(PrometheusFamilies.DroppedSeries.For(openMetrics));
        foreach (InstrumentState instrument in instruments)
        {
            b.Write("statshandler_dropped_series_total{metric=\""u8);
            b.WriteText(instrument.MetricName);
            b.Write("\"} "u8);
            b.Write(instrument.DroppedSeries);
            b.Write((byte)'\n');
        }
    }

    private static void WriteInstrument(PrometheusBuffer b, bool openMetrics, InstrumentState instrument)
    {
        lock (instrument.SyncRoot)
        {
            List<MeterSeries> series = instrument.Series;
            if (series.Count == 0)
            {
                return;
            }

            b.Write(instrument.Header.For(openMetrics));
            if (instrument.Kind != MeterInstrumentKind.Histogram)
            {
                foreach (MeterSeries one in series)
                {
                    b.Write(instrument.SampleName);
                    WriteLabels(b, one.EncodedLabels);
                    b.Write((byte)' ');
                    b.Write(one.Value * instrument.Scale);
                    b.Write((byte)'\n');
                }

                return;
            }

            byte[][] le = openMetrics ? instrument.OpenMetricsBucketLabels : instrument.TextBucketLabels;
            bool negativeBuckets = instrument.Bounds.Length > 0 && instrument.Bounds[0] < 0;
            foreach (MeterSeries one in series)
            {
                long cumulative = 0;
                for (int i = 0; i < one.Buckets.Length; i++)
                {
                    cumulative += one.Buckets[i];
                    b.Write(instrument.SampleName);
                    b.Write("_bucket{"u8);
                    if (one.EncodedLabels.Length > 0)
                    {
                        b.Write(one.EncodedLabels);
                        b.Write((byte)',');
                    }

                    b.Write(le[i]);
                    b.Write("} "u8);
                    b.Write(cumulative);
                    b.Write((byte)'\n');
                }

                // OpenMetrics treats _sum as a counter: it may not be NaN or negative, nor present with negative
                // buckets; and _count appears exactly when _sum does.
                if (openMetrics && !(one.Sum >= 0 && !negativeBuckets))
                {
                    continue;
                }

                b.Write(instrument.SampleName);
                b.Write("_sum"u8);
                WriteLabels(b, one.EncodedLabels);
                b.Write((byte)' ');
                b.Write(one.Sum * instrument.Scale);
                b.Write((byte)'\n');
                b.Write(instrument.SampleName);
                b.Write("_count"u8);
                WriteLabels(b, one.EncodedLabels);
                b.Write((byte)' ');
                b.Write(one.Count);
                b.Write((byte)'\n');
            }
        }
    }

    private static void WriteLabels(PrometheusBuffer b, byte[] encoded)
    {
        if (encoded.Length == 0)
        {
            return;
        }

        b.Write((byte)'{');
        b.Write(encoded);
        b.Write((byte)'}');
    }
}
