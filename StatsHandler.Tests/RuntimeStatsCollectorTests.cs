using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

public class RuntimeStatsCollectorTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Test]
    public void The_first_sample_has_rates_averaged_since_the_process_started()
    {
        var clock = new ManualTimeProvider(Start.AddSeconds(100));
        var probe = new FakeProbe(Start) { CpuSeconds = 50, Allocated = 1_000_000, Collections = 20, PauseMs = 400 };
        using var collector = new RuntimeStatsCollector(clock, TimeSpan.FromSeconds(1), probe);

        RuntimeStats stats = collector.Capture();

        stats.RateIntervalSeconds.Should().Be(100);
        stats.UptimeSeconds.Should().Be(100);
        stats.CpuUsagePercent.Should().Be(25, "50 CPU seconds over 100 s on 2 CPUs");
        stats.AllocBytesPerSecond.Should().Be(10_000);
        stats.GcPerSecond.Should().Be(0.2);
        stats.GcPausePerSecond.Should().Be(4);
        stats.GcPausePercent.Should().BeApproximately(0.4, 1e-9);
    }

    [Test]
    public void Gc_pause_per_second_is_divided_by_the_elapsed_time()
    {
        var clock = new ManualTimeProvider(Start.AddSeconds(10));
        var probe = new FakeProbe(Start);
        using var collector = new RuntimeStatsCollector(clock, TimeSpan.FromSeconds(2), probe);
        collector.Capture();

        clock.Advance(TimeSpan.FromSeconds(2));
        probe.PauseMs += 100;
        probe.Collections += 4;
        RuntimeStats stats = collector.Capture();

        stats.RateIntervalSeconds.Should().Be(2);
        stats.GcPausePerSecond.Should().Be(50, "the Go original reported 100 here: ms since the last sample, not per second");
        stats.GcPausePercent.Should().Be(5);
        stats.GcPerSecond.Should().Be(2);
    }

    [Test]
    public void Gc_rate_is_right_after_a_sample_taken_before_the_first_collection()
    {
        var clock = new ManualTimeProvider(Start.AddSeconds(1));
        var probe = new FakeProbe(Start);
        using var collector = new RuntimeStatsCollector(clock, TimeSpan.FromSeconds(1), probe);
        collector.Capture().GcPerSecond.Should().Be(0);

        clock.Advance(TimeSpan.FromSeconds(1));
        probe.Collections = 3;

        collector.Capture().GcPerSecond.Should().Be(3, "the Go original read 0 here because it tested lastNumGc > 0");
    }

    [Test]
    public void Two_clients_polling_concurrently_each_see_what_one_would_see()
    {
        IReadOnlyList<double> alone = Poll(clients: 1);
        IReadOnlyList<double> together = Poll(clients: 2);

        together.Should().Equal(alone, "rates must not depend on how many clients poll");
        alone.Skip(1).Should().AllSatisfy(rate => rate.Should().Be(1000));
        alone[0].Should().BeApproximately(500 / 5.5, 1e-9, "the first poll averages since the process started");

        static IReadOnlyList<double> Poll(int clients)
        {
            var clock = new ManualTimeProvider(Start.AddSeconds(5));
            var probe = new FakeProbe(Start);
            using var collector = new RuntimeStatsCollector(clock, TimeSpan.FromSeconds(1), probe);
            collector.Capture();
            var seenByFirstClient = new List<double>();
            for (int second = 0; second < 10; second++)
            {
                // Allocation grows 1000 B/s. The first client polls on the half second; a second client, if any,
                // polls on the whole second. Both scenarios read the first client's view at the same instants.
                clock.Advance(TimeSpan.FromSeconds(0.5));
                probe.Allocated += 500;
                seenByFirstClient.Add(collector.Capture().AllocBytesPerSecond);

                clock.Advance(TimeSpan.FromSeconds(0.5));
                probe.Allocated += 500;
                if (clients == 2)
                {
                    collector.Capture();
                }
            }

            return seenByFirstClient;
        }
    }

    [Test]
    public void Requests_a_microsecond_apart_give_finite_non_negative_rates()
    {
        var clock = new ManualTimeProvider(Start.AddSeconds(3));
        var probe = new FakeProbe(Start);
        using var collector = new RuntimeStatsCollector(clock, TimeSpan.FromSeconds(1), probe);

        for (int i = 0; i < 1000; i++)
        {
            clock.Advance(TimeSpan.FromTicks(10));
            probe.Allocated += 100;
            probe.CpuSeconds += 0.000001;
            probe.Collections += i % 7 == 0 ? 1 : 0;
            RuntimeStats stats = collector.Capture();

            foreach (double rate in new[] { stats.CpuUsagePercent, stats.AllocBytesPerSecond, stats.GcPerSecond, stats.GcPausePerSecond, stats.GcPausePercent })
            {
                double.IsFinite(rate).Should().BeTrue();
                rate.Should().BeGreaterThanOrEqualTo(0);
            }

            stats.RateIntervalSeconds.Should().BeGreaterThan(0.5, "a burst never shrinks the interval to microseconds");
            stats.CpuUsagePercent.Should().BeLessThanOrEqualTo(100);
        }
    }

    [Test]
    public void A_frozen_clock_gives_zero_rates_not_nan()
    {
        var clock = new ManualTimeProvider(Start);
        var probe = new FakeProbe(Start.AddSeconds(5)) { Allocated = 10 };
        using var collector = new RuntimeStatsCollector(clock, TimeSpan.FromSeconds(1), probe);

        RuntimeStats stats = collector.Capture();

        stats.AllocBytesPerSecond.Should().BeGreaterThanOrEqualTo(0);
        double.IsFinite(stats.AllocBytesPerSecond).Should().BeTrue();
        stats.UptimeSeconds.Should().Be(0, "a clock before the process start reads as zero uptime");
        JsonDocument.Parse(stats.ToJson()).RootElement.GetProperty("alloc_per_second").GetDouble().Should().BeGreaterThanOrEqualTo(0);
    }

    [Test]
    public void A_slow_poller_gets_the_rate_over_its_own_interval()
    {
        var clock = new ManualTimeProvider(Start.AddSeconds(5));
        var probe = new FakeProbe(Start);
        using var collector = new RuntimeStatsCollector(clock, TimeSpan.FromSeconds(1), probe);
        collector.Capture();

        clock.Advance(TimeSpan.FromSeconds(10));
        probe.Collections = 5;
        RuntimeStats stats = collector.Capture();

        stats.RateIntervalSeconds.Should().Be(10);
        stats.GcPerSecond.Should().Be(0.5);
    }

    [Test]
    public void A_rate_interval_out_of_range_is_rejected_naming_it()
    {
        Action tooShort = () => _ = new RuntimeStatsCollector(rateInterval: TimeSpan.Zero);

        tooShort.Should().Throw<ArgumentOutOfRangeException>()
            .WithMessage("Rate interval 00:00:00 must be between 1 ms and 1 hour*")
            .And.ParamName.Should().Be("rateInterval");
    }

    [Test]
    public void Dispose_releases_the_probe_and_is_idempotent()
    {
        var probe = new FakeProbe(Start);
        var collector = new RuntimeStatsCollector(new ManualTimeProvider(Start.AddSeconds(1)), null, probe);

        collector.Dispose();
        collector.Dispose();

        probe.Disposed.Should().BeTrue();
        collector.Invoking(c => c.Capture()).Should().Throw<ObjectDisposedException>();
    }

    [Test]
    public void A_real_snapshot_round_trips_through_json()
    {
        using var collector = new RuntimeStatsCollector();

        RuntimeStats stats = collector.Capture();
        using JsonDocument doc = JsonDocument.Parse(stats.ToJson(indented: true));

        doc.RootElement.GetProperty("pid").GetInt32().Should().Be(stats.ProcessId);
        doc.RootElement.GetProperty("memory_sys").GetInt64().Should().Be(stats.MemorySysBytes);
        doc.RootElement.GetProperty("gc_num").GetInt32().Should().Be(stats.GcCount);
        doc.RootElement.GetProperty("thread_num").GetInt32().Should().Be(stats.ThreadCount).And.BePositive();
        stats.ToString().Should().Be(stats.ToJson());
    }

    [Test]
    public void Non_finite_numbers_are_written_as_null_as_everywhere_in_the_document_so_the_json_stays_valid()
    {
        RuntimeStats stats = new RuntimeStats() with { CpuUsagePercent = double.NaN, GcPerSecond = double.PositiveInfinity, GcPauses = new[] { double.NaN, 1.5 } };

        using JsonDocument doc = JsonDocument.Parse(stats.ToJson());

        doc.RootElement.GetProperty("cpu_usage_percent").ValueKind.Should().Be(JsonValueKind.Null);
        doc.RootElement.GetProperty("gc_per_second").ValueKind.Should().Be(JsonValueKind.Null);
        doc.RootElement.GetProperty("gc_pause").EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? "null" : e.GetDouble().ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Should().Equal("null", "1.5");
    }
}
