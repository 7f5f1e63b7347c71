using Microsoft.Win32.SafeHandles;

namespace StatsHandler;

/// <summary>
/// Reads resident set size from <c>/proc/self/statm</c> and the thread count from <c>/proc/self/stat</c> through
/// handles kept open: no allocation, and far cheaper than <see cref="Environment.WorkingSet"/> or
/// <c>Process.Threads</c>. <c>stat</c> costs about three times what <c>statm</c> does (the kernel formats fifty
/// fields), so the thread count is re-read at most once a second.
/// </summary>
internal sealed class ProcSelf : IDisposable
{
    // Fields after the ")" that closes the command name, counted from 0: field 3 of proc(5) is index 0.
    private const int NumThreadsIndex = 20 - 3;
    private const long ThreadsMaxAgeMs = 1000;

    private readonly SafeFileHandle _statm;
    private readonly SafeFileHandle _stat;
    private readonly long _pageSize = Environment.SystemPageSize;
    private int _threads;
    private long _threadsReadAt = -ThreadsMaxAgeMs;

    private ProcSelf(SafeFileHandle statm, SafeFileHandle stat)
    {
        _statm = statm;
        _stat = stat;
    }

    /// <summary>Opens the two files, or returns null where there are none (Windows, macOS) or they cannot be read.</summary>
    public static ProcSelf? TryOpen()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        SafeFileHandle? statm = null;
        SafeFileHandle? stat = null;
        try
        {
            statm = File.OpenHandle("/proc/self/statm", FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            stat = File.OpenHandle("/proc/self/stat", FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var reader = new ProcSelf(statm, stat);
            if (reader.TryReadResident(out _) && reader.TryReadThreads(out _))
            {
                return reader;
            }

            reader.Dispose();
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            statm?.Dispose();
            stat?.Dispose();
            return null;
        }
    }

    /// <summary>Reads the resident set size in bytes (statm's second field).</summary>
    public bool TryReadResident(out long bytes)
    {
        bytes = 0;
        Span<byte> buffer = stackalloc byte[128];
        if (!TryRead(_statm, buffer, out int length))
        {
            return false;
        }

        ReadOnlySpan<byte> text = buffer[..length];
        int space = text.IndexOf((byte)' ');
        if (space < 0 || !TryParse(text[(space + 1)..], out long pages))
        {
            return false;
        }

        bytes = pages * _pageSize;
        return true;
    }

    /// <summary>Reads the number of OS threads (stat's twentieth field), re-reading the file at most once a second.</summary>
    public bool TryReadThreads(out int threads)
    {
        long now = Environment.TickCount64;
        if (now - _threadsReadAt < ThreadsMaxAgeMs && _threadsReadAt >= 0)
        {
            threads = _threads;
            return true;
        }

        threads = 0;
        Span<byte> buffer = stackalloc byte[1024];
        if (!TryRead(_stat, buffer, out int length))
        {
            return false;
        }

        ReadOnlySpan<byte> text = buffer[..length];
        int close = text.LastIndexOf((byte)')');
        if (close < 0)
        {
            return false;
        }

        text = text[(close + 2)..];
        for (int field = 0; field < NumThreadsIndex; field++)
        {
            int space = text.IndexOf((byte)' ');
            if (space < 0)
            {
                return false;
            }

            text = text[(space + 1)..];
        }

        if (!TryParse(text, out long count))
        {
            return false;
        }

        _threads = threads = (int)count;
        _threadsReadAt = now;
        return true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _statm.Dispose();
        _stat.Dispose();
    }

    private static bool TryRead(SafeFileHandle handle, Span<byte> buffer, out int length)
    {
        try
        {
            length = RandomAccess.Read(handle, buffer, 0);
            return length > 0;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            length = 0;
            return false;
        }
    }

    private static bool TryParse(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        int digits = 0;
        foreach (byte b in text)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                break;
            }

            value = (value * 10) + (b - '0');
            digits++;
        }

        return digits > 0;
    }
}
