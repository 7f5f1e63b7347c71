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
    public void Opening_files_raises_the_count()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("/proc/self/fd is Linux-only.");
        }

        using var probe = new FileDescriptorProbe();
        string path = Path.GetTempFileName();
        try
        {
            probe.TryRead(out long before, out _);
            var handles = Enumerable.Range(0, 50).Select(_ => File.OpenHandle(path)).ToList();
            probe.TryRead(out long during, out _);
            handles.ForEach(h => h.Dispose());

            during.Should().BeGreaterThanOrEqualTo(before + 50 - 16, "50 more files are open, give or take other tests' sockets");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
