namespace StatsHandler;

/// <summary>
/// One time series of an exported instrument: one tag set and its value, or its histogram counts. Any thread updates
/// it without a lock (<see cref="InstrumentState.Record"/>); a scrape reads it with <see cref="Value"/> or
/// <see cref="ReadHistogram"/>, which copy this one series' figures and block nobody.
/// </summary>
internal sealed class MeterSeries
{
    private readonly double[] _bounds;
    private readonly int _budget;
    private readonly Func<bool>? _exemplarsOn;
    private ExemplarCell[]? _exemplars;
    private readonly HistogramCell? _histogram;
    private StripedDouble _total;
    private double _last;
    private HistogramCell[]? _histogramStripes;

    /// <param name="tags">The series' tag set.</param>
    /// <param name="bounds">A histogram's classic bucket bounds; null for a series of one value.</param>
    /// <param name="budget">A histogram's most exponential buckets per sign.</param>
    /// <param name="exemplarsOn">Whether a histogram keeps exemplars now (read only for measurements inside an Activity).</param>
    public MeterSeries(TagSet tags, double[]? bounds, int budget = ExponentialScale.DefaultBudget, Func<bool>? exemplarsOn = null)
    {
        Tags = tags;
        _exemplarsOn = exemplarsOn;
        _bounds = bounds ?? [];
        _budget = budget;
        _histogram = bounds is null ? null : new HistogramCell(bounds.Length + 1, budget);
    }

    /// <summary>The tag set: its text decides which measurements land here.</summary>
    public TagSet Tags { get; }

    /// <summary>True for a histogram's series (<see cref="ReadHistogram"/>); false for one value (<see cref="Value"/>).</summary>
    public bool IsHistogram => _histogram is not null;

    /// <summary>The sum (counters, up-down counters), or the last value (gauges, observable instruments).</summary>
    public double Value => Volatile.Read(ref _last) + _total.Sum;

    /// <summary>Adds to a counter's or up-down counter's sum.</summary>
    public void Add(double value) => _total.Add(value);

    /// <summary>Sets a gauge's or observable instrument's value.</summary>
    public void Set(double value) => Volatile.Write(ref _last, value);

    /// <summary>Counts one observation in its classic and its exponential bucket and adds it to the sum.</summary>
    public void Observe(double value)
    {
        HistogramCell[]? stripes = Volatile.Read(ref _histogramStripes);
        HistogramCell cell = stripes is null ? _histogram! : stripes[Thread.GetCurrentProcessorId() & (stripes.Length - 1)];
        int bucket = HistogramBounds.IndexOf(_bounds, value);
        Interlocked.Increment(ref cell.Buckets[bucket]);
        cell.Exponential.Record(value);
        if (System.Diagnostics.Activity.Current is { } activity)
        {
            OfferExemplar(bucket, value, activity);
        }

        if (AtomicDouble.Add(ref cell.Sum, value) && stripes is null)
        {
            // Two threads met on this series' cache lines: give each processor its own counts from now on.
            int buckets = _bounds.Length + 1;
            int budget = _budget;
            StripedDouble.Stripe(ref _histogramStripes, () => new HistogramCell(buckets, budget));
        }
    }

    /// <summary>
    /// Copies the histogram's per-bucket counts (not cumulative; the last above the highest bound) into
    /// <paramref name="buckets"/>, sized one more than the bounds, and returns the observation count.
    /// </summary>
    public long ReadHistogram(Span<long> buckets, out double sum)
    {
        buckets.Clear();
        sum = _histogram!.AddTo(buckets);
        HistogramCell[]? stripes = Volatile.Read(ref _histogramStripes);
        if (stripes is not null)
        {
            foreach (HistogramCell cell in stripes)
            {
                sum += cell.AddTo(buckets);
            }
        }

        long count = 0;
        foreach (long n in buckets)
        {
            count += n;
        }

        return count;
    }

    /// <summary>Each classic bucket's latest exemplar (null where none), or null when the series has none at all.</summary>
    public Exemplar?[]? ReadExemplars()
    {
        ExemplarCell[]? cells = Volatile.Read(ref _exemplars);
        if (cells is null)
        {
            return null;
        }

        var exemplars = new Exemplar?[cells.Length];
        for (int i = 0; i < cells.Length; i++)
        {
            exemplars[i] = cells[i].TryRead(out Exemplar exemplar) ? exemplar : null;
        }

        return exemplars;
    }

    // Apart from Observe: a measurement outside an Activity pays only the check of Activity.Current.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void OfferExemplar(int bucket, double value, System.Diagnostics.Activity activity)
    {
        // Only W3C ids are trace and span ids; a hierarchical Activity (Activity.DefaultIdFormat) has none.
        if (activity.IdFormat != System.Diagnostics.ActivityIdFormat.W3C || _exemplarsOn is null || !_exemplarsOn())
        {
            return;
        }

        ExemplarCell[]? cells = Volatile.Read(ref _exemplars);
        if (cells is null)
        {
            // Once per series: a cell per classic bucket.
            var created = new ExemplarCell[_bounds.Length + 1];
            for (int i = 0; i < created.Length; i++)
            {
                created[i] = new ExemplarCell();
            }

            cells = Interlocked.CompareExchange(ref _exemplars, created, null) ?? created;
        }

        cells[bucket].Offer(value, activity);
    }

    /// <summary>
    /// Reads the exponential buckets of every cell, merged at one scale (see <see cref="ExponentialReading"/>). Like
    /// <see cref="ReadHistogram"/>, a copy taken while records go on.
    /// </summary>
    public ExponentialHistogram ReadExponential()
    {
        var reading = new ExponentialReading(_budget);
        _histogram!.Exponential.AddTo(reading);
        HistogramCell[]? stripes = Volatile.Read(ref _histogramStripes);
        if (stripes is not null)
        {
            foreach (HistogramCell cell in stripes)
            {
                cell.Exponential.AddTo(reading);
            }
        }

        return reading.ToHistogram();
    }

    /// <summary>One set of histogram counts; a series has one, and one per processor once threads contend.</summary>
    private sealed class HistogramCell
    {
        public readonly long[] Buckets;
        public readonly ExponentialBuckets Exponential;
        public double Sum;

        // Keeps the next cell's sum off this cell's line; the bucket array lives elsewhere on the heap.
#pragma warning disable CS0169, IDE0051 // padding, never read
        private readonly long _pad0, _pad1, _pad2, _pad3, _pad4, _pad5, _pad6;
#pragma warning restore CS0169, IDE0051

        public HistogramCell(int buckets, int budget)
        {
            Buckets = new long[buckets];
            Exponential = new ExponentialBuckets(budget);
        }

        public double AddTo(Span<long> buckets)
        {
            for (int i = 0; i < Buckets.Length; i++)
            {
                buckets[i] += Volatile.Read(ref Buckets[i]);
            }

            return Volatile.Read(ref Sum);
        }
    }
}
