namespace StatsHandler;

/// <summary>Writes a server's published values and exported instruments as Prometheus families.</summary>
internal static class ExportsPrometheusWriter
{
    /// <summary>
    /// Writes numeric published values as gauges and text ones as info families, then each instrument that has a
    /// series, then the dropped-series counter. A published value whose callback throws is left out and reported; one
    /// whose name an instrument uses is left out of this format (the JSON document still shows it) and reported once.
    /// </summary>
    public static void Write(PrometheusBuffer b, bool openMetrics, StatsRegistry exports)
    {
        MeterBridge? meters = exports.Meters;
        foreach (PublishedValue value in exports.Published)
        {
            if (meters is not null && meters.Claims(value.SampleName))
            {
                exports.ReportClash(value);
                continue;
            }

            if (!value.TryRead(out PublishedReading reading, out Exception? error))
            {
                exports.Report(error!);
                continue;
            }

            if (reading.Kind == PublishedKind.Text && reading.Text is null)
            {
                // No text to show: an info family with an empty value would claim there is one.
                continue;
            }

            b.Write(value.Header.For(openMetrics));
            b.Write(value.EncodedName);
            switch (reading.Kind)
            {
                case PublishedKind.Text:
                    b.Write("{value=\""u8);
                    b.WriteLabelValue(reading.Text!);
                    b.Write("\"} 1"u8);
                    break;
                case PublishedKind.Number:
                    b.Write((byte)' ');
                    b.Write(reading.Number);
                    break;
                default:
                    b.Write((byte)' ');
                    b.Write(reading.Integer);
                    break;
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
        // No lock: each series' figures are copied as they are written, so a scrape never makes a Record wait.
        ReadOnlySpan<MeterSeries> series = instrument.Series;
        if (series.IsEmpty)
        {
            return;
        }

        PrometheusInstrument form = PrometheusInstrument.Of(instrument);
        b.Write(form.Header.For(openMetrics));
        if (instrument.Kind != MeterInstrumentKind.Histogram)
        {
            foreach (MeterSeries one in series)
            {
                b.Write(form.SampleName);
                WriteLabels(b, form.LabelsOf(one));
                b.Write((byte)' ');
                b.Write(one.Value * form.Scale);
                b.Write((byte)'\n');
            }

            return;
        }

        byte[][] le = openMetrics ? form.OpenMetricsBucketLabels : form.TextBucketLabels;
        bool negativeBuckets = instrument.Bounds.Length > 0 && instrument.Bounds[0] < 0;
        long[]? rented = le.Length > 64 ? System.Buffers.ArrayPool<long>.Shared.Rent(le.Length) : null;
        Span<long> buckets = rented is null ? stackalloc long[le.Length] : rented.AsSpan(0, le.Length);
        foreach (MeterSeries one in series)
        {
            long count = one.ReadHistogram(buckets, out double sum);
            byte[] labels = form.LabelsOf(one);
            long cumulative = 0;
            for (int i = 0; i < buckets.Length; i++)
            {
                cumulative += buckets[i];
                b.Write(form.SampleName);
                b.Write("_bucket{"u8);
                if (labels.Length > 0)
                {
                    b.Write(labels);
                    b.Write((byte)',');
                }

                b.Write(le[i]);
                b.Write("} "u8);
                b.Write(cumulative);
                b.Write((byte)'\n');
            }

            // OpenMetrics treats _sum as a counter: it may not be NaN or negative, nor present with negative
            // buckets; and _count appears exactly when _sum does.
            if (openMetrics && !(sum >= 0 && !negativeBuckets))
            {
                continue;
            }

            b.Write(form.SampleName);
            b.Write("_sum"u8);
            WriteLabels(b, labels);
            b.Write((byte)' ');
            b.Write(sum * form.Scale);
            b.Write((byte)'\n');
            b.Write(form.SampleName);
            b.Write("_count"u8);
            WriteLabels(b, labels);
            b.Write((byte)' ');
            b.Write(count);
            b.Write((byte)'\n');
        }

        if (rented is not null)
        {
            System.Buffers.ArrayPool<long>.Shared.Return(rented);
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
