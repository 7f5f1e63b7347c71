using System.IO.Enumeration;
using Microsoft.Win32.SafeHandles;

namespace StatsHandler;

/// <summary>
/// Reads the process's open file descriptors (entries of <c>/proc/self/fd</c>) and their soft limit (the
/// <c>Max open files</c> line of <c>/proc/self/limits</c>, read through a handle kept open) on Linux.
/// </summary>
internal sealed class FileDescriptorProbe : IDisposable
{
    private readonly SafeFileHandle? _limits;

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

        try
        {
            // Counting through FileSystemEnumerable reads the directory without making a string per entry.
            var entries = new FileSystemEnumerable<byte>("/proc/self/fd", static (ref FileSystemEntry _) => 0);
            foreach (byte _ in entries)
            {
                open++;
            }

            return TryReadMaxOpenFiles(out max);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            return false;
        }
    }

    public void Dispose() => _limits?.Dispose();

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
