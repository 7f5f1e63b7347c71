using System.Text;

namespace StatsHandler.Tests;

public class PrometheusFamiliesTests
{
    [Test]
    public void Seconds_made_of_sums_and_divisions_print_as_the_source_measured_them()
    {
        // 0.1 + 0.2 is 0.30000000000000004 in binary, and 4.2 ms / 1000 is 0.004200000000000001.
        var stats = new RuntimeStats
        {
            ProcessStartTime = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123),
            CpuUserSeconds = 0.1,
            CpuSystemSeconds = 0.2,
            GcPauseTotalMs = 4.2,
            JitTimeMs = 12.3456789,
        };
        (0.1 + 0.2).ToString("R", System.Globalization.CultureInfo.InvariantCulture).Should().Be("0.30000000000000004", "the sum is noisy without rounding");
        using var buffer = new PrometheusBuffer(4096);

        PrometheusFamilies.Write(buffer, openMetrics: false, in stats, new GcGenerationCounts(0, 0, 0));

        string[] lines = Encoding.UTF8.GetString(buffer.WrittenSpan).Split('\n');
        lines.Should().Contain("process_cpu_seconds_total 0.3");
        lines.Should().Contain("dotnet_process_cpu_time_seconds_total{cpu_mode=\"user\"} 0.1");
        lines.Should().Contain("dotnet_process_cpu_time_seconds_total{cpu_mode=\"system\"} 0.2");
        lines.Should().Contain("process_start_time_seconds 1700000000.123");
        lines.Should().Contain(l => l.EndsWith(" 0.0042", StringComparison.Ordinal) && l.StartsWith("dotnet_gc_pause_time_seconds_total ", StringComparison.Ordinal));
        lines.Should().Contain(l => l.EndsWith(" 0.0123457", StringComparison.Ordinal) && l.StartsWith("dotnet_jit_compilation_time_seconds_total ", StringComparison.Ordinal), "rounded to the 100 ns tick");
    }
}
