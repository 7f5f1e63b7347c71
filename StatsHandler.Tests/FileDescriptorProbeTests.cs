namespace StatsHandler.Tests;

public class FileDescriptorProbeTests
{
    [Test]
    public void On_linux_the_count_matches_the_fd_directory_and_the_limit_is_read()
    {
        using var probe = new FileDescriptorProbe();

        bool read = probe.TryRead(out long open, out long max);

        if (!OperatingSystem.IsLinux())
        {
            read.Should().BeFalse("only Linux has /proc/self/fd");
            return;
        }

        read.Should().BeTrue();
        int listed = Directory.GetFileSystemEntries("/proc/self/fd").Length;
        open.Should().BeInRange(listed - 16, listed + 16, "other tests open and close descriptors meanwhile");
        max.Should().BeGreaterThanOrEqualTo(open);
    }

    [Test]
    public void Opening_files_raises_the_count_and_a_second_read_within_a_second_is_cached()
    {
        if (!OperatingSystem.IsLinux())
        {
            using var elsewhere = new FileDescriptorProbe();
            elsewhere.TryRead(out _, out _).Should().BeFalse("/proc/self/fd is Linux-only");
            return;
        }

        using var first = new FileDescriptorProbe();
        using var second = new FileDescriptorProbe();
        string path = Path.GetTempFileName();
        try
        {
            first.TryRead(out long before, out _).Should().BeTrue();
            var handles = Enumerable.Range(0, 50).Select(_ => File.OpenHandle(path)).ToList();
            first.TryRead(out long cached, out _).Should().BeTrue();
            second.TryRead(out long during, out _).Should().BeTrue();
            handles.ForEach(h => h.Dispose());

            during.Should().BeGreaterThanOrEqualTo(before + 50 - 16, "50 more files are open, give or take other tests' sockets");
            cached.Should().Be(before, "the directory is listed at most once a second");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
