using System.Diagnostics.Metrics;

namespace StatsHandler;

/// <summary>
/// The aggregated state of one exported instrument: a series per distinct tag set (<see cref="TagSet"/>), capped.
/// Measurements of any thread find their series without a lock and update it with atomic instructions; only a new
/// series takes the lock, to be added under the cap. Readers walk <see cref="Series"/>, a stable view.
/// </summary>
internal sealed class InstrumentState
{
    private readonly Lock _addLock = new();
    private readonly Func<int> _maxSeries;
    private readonly Func<bool>? _exemplarsOn;
    private readonly double[]? _seriesBounds;

    // Open addressing, linear probing, at most half full. Slots are only ever filled, never emptied or moved, so a reader
    // needs no lock: it sees a series whole (published with a release write) or not yet. Growth publishes a new table.
    private MeterSeries?[] _slots = new MeterSeries?[16];
    private MeterSeries[] _ordered = new MeterSeries[8];
    private int _count;
    private MeterSeries? _untagged;
    private TagHints _hints = TagHints.Empty;
    private long _dropped;

    public InstrumentState(Instrument instrument, InstrumentKind kind, string metricName, Func<int> maxSeries, Func<bool>? exemplarsOn = null)
    {
        _exemplarsOn = exemplarsOn;
        Instrument = instrument;
        Kind = kind;
        MetricName = metricName;
        _maxSeries = maxSeries;
        Bounds = kind == InstrumentKind.Histogram ? HistogramBounds.For(instrument) : [];
        _seriesBounds = kind == InstrumentKind.Histogram ? Bounds : null;
    }

    public Instrument Instrument { get; }

    public InstrumentKind Kind { get; }

    /// <summary>The family name in Prometheus (for counters without <c>_total</c>).</summary>
    public string MetricName { get; }

    /// <summary>Histogram bucket upper bounds in the instrument's unit, increasing and finite; the <c>+Inf</c> bucket is implied.</summary>
    public double[] Bounds { get; }

    /// <summary>The series in the order they first appeared: a view that later series do not change.</summary>
    public ReadOnlySpan<MeterSeries> Series
    {
        get
        {
            // The count is published after the array that holds it, so reading the count first is enough.
            int count = Volatile.Read(ref _count);
            return Volatile.Read(ref _ordered).AsSpan(0, count);
        }
    }

    /// <summary>Series not created because the instrument already had the maximum number.</summary>
    public long DroppedSeries => Interlocked.Read(ref _dropped);

    /// <summary>Folds one measurement in. Called by the listener on whatever thread measured; takes no lock once its series exists.</summary>
    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        MeterSeries? series;
        if (tags.IsEmpty)
        {
            series = Volatile.Read(ref _untagged) ?? AddUntagged();
        }
        else
        {
            // The hot path: one pass to hash, one to compare, no lock. A span that repeats a key misses here and is
            // looked up by the full rule, which counts a key's first value only.
            MeterSeries?[] slots = Volatile.Read(ref _slots);
            series = Find(slots, TagSet.HashOfDistinct(tags, Volatile.Read(ref _hints)), tags, exactly: true);
            if (series is null)
            {
                int hash = TagSet.HashOf(tags);
                series = Find(slots, hash, tags) ?? Add(hash, tags);
            }
        }

        if (series is null)
        {
            return;
        }

        switch (Kind)
        {
            case InstrumentKind.Counter:
                // A counter never goes down: a negative or NaN increment would break every rate computed from it.
                if (value >= 0)
                {
                    series.Add(value);
                }

                break;
            case InstrumentKind.UpDownCounter:
                series.Add(value);
                break;
            case InstrumentKind.ObservableCounter:
                // An observed total below zero (or NaN) is no count; OpenMetrics forbids such a counter value.
                if (value >= 0)
                {
                    series.Set(value);
                }

                break;
            case InstrumentKind.Histogram:
                series.Observe(value);
                break;
            default:
                series.Set(value);
                break;
        }
    }

    /// <summary>The series of <paramref name="tags"/>, by <see cref="TagSet.MatchesExactly"/> or by the full rule.</summary>
    private static MeterSeries? Find(MeterSeries?[] slots, int hash, ReadOnlySpan<KeyValuePair<string, object?>> tags, bool exactly = false)
    {
        int mask = slots.Length - 1;
        for (int i = hash & mask; ; i = (i + 1) & mask)
        {
            MeterSeries? candidate = Volatile.Read(ref slots[i]);
            if (candidate is null)
            {
                return null;
            }

            if (candidate.Tags.Hash == hash && (exactly ? candidate.Tags.MatchesExactly(tags) : candidate.Tags.Matches(tags)))
            {
                return candidate;
            }
        }
    }

    private MeterSeries? AddUntagged()
    {
        lock (_addLock)
        {
            if (_untagged is null && TryMakeRoom())
            {
                MeterSeries series = Append(TagSet.Empty);
                Volatile.Write(ref _untagged, series);
            }

            return _untagged;
        }
    }

    private MeterSeries? Add(int hash, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (Volatile.Read(ref _count) >= _maxSeries())
        {
            // Over the cap: count the drop without the lock, so an unbounded tag cannot make every thread queue.
            Interlocked.Increment(ref _dropped);
            return null;
        }

        lock (_addLock)
        {
            MeterSeries?[] slots = _slots;
            MeterSeries? series = Find(slots, hash, tags);
            if (series is not null || !TryMakeRoom())
            {
                return series;
            }

            series = Append(TagSet.Create(tags, hash));

            // The new series' tag instances lend their hashes to the hot path: written only here, under the lock, so the
            // record path reads them without contention.
            Volatile.Write(ref _hints, _hints.With(tags));
            if (Volatile.Read(ref _count) * 2 > slots.Length)
            {
                // Too full to probe quickly: publish a table twice the size; readers of the old one find a series missing
                // and come here, to this lock, where they find it in the new one.
                var grown = new MeterSeries?[slots.Length * 2];
                foreach (MeterSeries one in Series)
                {
                    if (one != _untagged)
                    {
                        Insert(grown, one);
                    }
                }

                Volatile.Write(ref _slots, grown);
            }
            else
            {
                Insert(slots, series);
            }

            return series;
        }
    }

    /// <summary>Under the lock: true when one more series fits under the cap, else counts a dropped one.</summary>
    private bool TryMakeRoom()
    {
        if (_count < _maxSeries())
        {
            return true;
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }

    /// <summary>Under the lock: creates a series and adds it to the ordered list, growing it by copy.</summary>
    private MeterSeries Append(TagSet tags)
    {
        var series = new MeterSeries(tags, _seriesBounds, ExponentialScale.DefaultBudget, _exemplarsOn);
        MeterSeries[] ordered = _ordered;
        if (_count == ordered.Length)
        {
            Array.Resize(ref ordered, ordered.Length * 2);
            Volatile.Write(ref _ordered, ordered);
        }

        ordered[_count] = series;
        Volatile.Write(ref _count, _count + 1);
        return series;
    }

    private static void Insert(MeterSeries?[] slots, MeterSeries series)
    {
        int mask = slots.Length - 1;
        int i = series.Tags.Hash & mask;
        while (slots[i] is not null)
        {
            i = (i + 1) & mask;
        }

        Volatile.Write(ref slots[i], series);
    }
}
