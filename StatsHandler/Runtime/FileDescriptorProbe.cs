using System.IO.Enumeration;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace StatsHandler;

/// <summary>
/// Reads the process's open file descriptors (entries of <c>/proc/self/fd</c>) and their soft limit (the
/// <c>Max open files</c> line of <c>/proc/self/limits</c>, read through a handle kept open) on Linux.
/// </summary>
/// <remarks>
/// The directory is read with libc's <c>readdir</c>, as Go's client does: .NET's directory enumeration stats the target
/// of every symbolic link it meets, and each entry of <c>/proc/self/fd</c> is one, which costs ~25 µs per descriptor.
/// Even so, listing the directory costs tens of microseconds (the kernel builds it on every read), so both figures are
/// read at most once a second: a scraper polling faster sees the count of up to a second ago.
/// </remarks>
internal sealed class FileDescriptorProbe : IDisposable
{
    private const long MaxAgeMs = 1000;

    private readonly Lock _lock = new();
    private readonly SafeFileHandle? _limits;
    private bool _noLibc;
    private long _readAt = -1;
    private long _open;
    private long _max;

    public FileDescriptorProbe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            _limits = File.OpenHandle("/proc/self/limits", FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _limits = null;
        }
    }

    /// <summary>False where there is no <c>/proc</c> (Windows, macOS) or it cannot be read.</summary>
    public bool TryRead(out long open, out long max)
    {
        open = 0;
        max = 0;
        if (_limits is null)
        {
            return false;
        }

        lock (_lock)
        {
            long now = Environment.TickCount64;
            if (_readAt >= 0 && now - _readAt < MaxAgeMs)
            {
                open = _open;
                max = _max;
                return true;
            }

            try
            {
                open = CountOpenDescriptors();
                if (open < 0 || !TryReadMaxOpenFiles(out max))
                {
                    return false;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                return false;
            }

            (_open, _max, _readAt) = (open, max, now);
            return true;
        }
    }

    public void Dispose() => _limits?.Dispose();

    private long CountOpenDescriptors()
    {
        if (!_noLibc)
        {
            try
            {
                return CountWithReaddir();
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                _noLibc = true;
            }
        }

        // No usable libc: the managed enumeration gives the same count, only slower.
        long count = 0;
        var entries = new FileSystemEnumerable<byte>("/proc/self/fd", static (ref FileSystemEntry _) => 0);
        foreach (byte _ in entries)
        {
            count++;
        }

        return count;
    }

    private static long CountWithReaddir()
    {
        IntPtr directory = NativeMethods.opendir("/proc/self/fd");
        if (directory == IntPtr.Zero)
        {
            return -1;
        }

        try
        {
            long entries = 0;
            while (NativeMethods.readdir(directory) != IntPtr.Zero)
            {
                entries++;
            }

            // Every directory lists "." and ".."; the descriptor opendir holds is open too, and counted, as in Go.
            return Math.Max(0, entries - 2);
        }
        finally
        {
            _ = NativeMethods.closedir(directory);
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern IntPtr opendir(string name);

        [DllImport("libc")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern IntPtr readdir(IntPtr directory);

        [DllImport("libc")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int closedir(IntPtr directory);
    }

    private bool TryReadMaxOpenFiles(out long max)
    {
        max = 0;
        Span<byte> buffer = stackalloc byte[4096];
        int length = RandomAccess.Read(_limits!, buffer, 0);
        ReadOnlySpan<byte> text = buffer[..length];
        int line = text.IndexOf("Max open files"u8);
        if (line < 0)
        {
            return false;
        }

        // "Max open files            1048576              1048576              files": the soft limit comes first.
        text = text[(line + "Max open files"u8.Length)..].TrimStart(" "u8);
        if (text.StartsWith("unlimited"u8))
        {
            max = long.MaxValue;
            return true;
        }

        return System.Buffers.Text.Utf8Parser.TryParse(text, out max, out _);
    }
}
