using System.Diagnostics;

namespace StatsHandler.Tests;

public class ProcSelfTests
{
    [Test]
    public void Resident_size_and_thread_count_match_what_the_process_api_reports()
    {
        if (!OperatingSystem.IsLinux())
        {
            ProcSelf.TryOpen().Should().BeNull("procfs exists on Linux only");
            return;
        }

        using ProcSelf proc = ProcSelf.TryOpen()!;
        using Process process = Process.GetCurrentProcess();

        proc.TryReadResident(out long resident).Should().BeTrue();
        proc.TryReadThreads(out int threads).Should().BeTrue();

        resident.Should().BeCloseTo(process.WorkingSet64, 64 * 1024 * 1024);
        threads.Should().BeCloseTo(process.Threads.Count, 8);
        threads.Should().BeGreaterThan(1);
    }

    [Test]
    public void The_thread_count_is_cached_for_a_second_and_never_reads_zero()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using ProcSelf proc = ProcSelf.TryOpen()!;
        proc.TryReadThreads(out int first).Should().BeTrue();
        proc.TryReadThreads(out int second).Should().BeTrue();

        first.Should().BePositive();
        second.Should().Be(first, "a second read within a second comes from the cache");
    }
}
