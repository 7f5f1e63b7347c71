using System.Globalization;

namespace StatsHandler;

/// <summary>
/// One provider of an EventPipe session: its name, keywords, level and arguments, and optionally the only event ids it
/// may write (an event-id filter, which the runtime takes from <c>CollectTracing5</c>, .NET 10, on).
/// </summary>
/// <param name="Name">The provider's name, for example <c>Microsoft-Windows-DotNETRuntime</c>.</param>
/// <param name="Keywords">The keyword bits to enable.</param>
/// <param name="Level">The level: 0 LogAlways, 1 Critical, 2 Error, 3 Warning, 4 Informational, 5 Verbose.</param>
/// <param name="Arguments">Key=value pairs for the provider (its filter data), or null.</param>
/// <param name="EventIds">When not null, the only event ids the session records from this provider.</param>
internal sealed record EventPipeProvider(string Name, ulong Keywords, int Level, string? Arguments = null, int[]? EventIds = null)
{
    /// <summary>The runtime's own provider (GC, JIT, exceptions, contention, ...).</summary>
    public const string Runtime = "Microsoft-Windows-DotNETRuntime";

    /// <summary>The runtime's rundown provider: method and module names at the end of a session.</summary>
    public const string Rundown = "Microsoft-Windows-DotNETRuntimeRundown";

    /// <summary>The sample profiler: a stack of every managed thread every millisecond.</summary>
    public const string SampleProfiler = "Microsoft-DotNETCore-SampleProfiler";

    private static readonly string[] LevelNames = ["LogAlways", "Critical", "Error", "Warning", "Informational", "Verbose"];

    /// <summary>
    /// Parses providers in dotnet-trace's <c>--providers</c> syntax: <c>Name[:Keywords[:Level[:Key=Value;...]]]</c>,
    /// comma-separated; keywords in hex (<c>0x</c> optional, default all), level a number 0-5 or its name (default
    /// Verbose).
    /// </summary>
    /// <exception cref="FormatException">A provider is empty or its keywords or level are not valid; the message names it.</exception>
    public static EventPipeProvider[] ParseList(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            throw new FormatException($"No provider in '{text}'. Example: 'Microsoft-Windows-DotNETRuntime:0x1:4'.");
        }

        return Array.ConvertAll(parts, Parse);
    }

    private static EventPipeProvider Parse(string spec)
    {
        string[] fields = spec.Split(':', 4);
        string name = fields[0];
        if (name.Length == 0)
        {
            throw new FormatException($"Provider '{spec}' has no name. Example: 'Microsoft-Windows-DotNETRuntime:0x1:4'.");
        }

        ulong keywords = ulong.MaxValue;
        if (fields.Length > 1 && fields[1].Length > 0)
        {
            string hex = fields[1].StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? fields[1][2..] : fields[1];
            if (!ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out keywords))
            {
                throw new FormatException($"Keywords '{fields[1]}' of provider '{name}' are not hexadecimal. Example: '0x1'.");
            }
        }

        int level = 5;
        if (fields.Length > 2 && fields[2].Length > 0)
        {
            level = int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 0 and <= 5
                ? n
                : Array.FindIndex(LevelNames, l => l.Equals(fields[2], StringComparison.OrdinalIgnoreCase));
            if (level < 0)
            {
                throw new FormatException(
                    $"Level '{fields[2]}' of provider '{name}' is not 0-5 or one of {string.Join(", ", LevelNames)}.");
            }
        }

        return new EventPipeProvider(name, keywords, level, fields.Length > 3 && fields[3].Length > 0 ? fields[3] : null);
    }
}
