namespace StatsHandler.Hosting;

/// <summary>
/// Overrides of <see cref="StatsServerLimits"/> from configuration (<c>StatsServer:Limits:*</c>). A null value keeps the
/// server's default; a value out of range fails the host's start with a message naming the key.
/// </summary>
public sealed class StatsServerLimitsOptions
{
    /// <summary>Overrides <see cref="StatsServerLimits.MaxUrlLength"/> (key <c>Limits:MaxUrlLength</c>).</summary>
    public int? MaxUrlLength { get; set; }

    /// <summary>Overrides <see cref="StatsServerLimits.MaxConcurrentRequests"/> (key <c>Limits:MaxConcurrentRequests</c>).</summary>
    public int? MaxConcurrentRequests { get; set; }

    /// <summary>Overrides <see cref="StatsServerLimits.RequestTimeout"/> (key <c>Limits:RequestTimeout</c>, e.g. <c>00:00:10</c>).</summary>
    public TimeSpan? RequestTimeout { get; set; }

    /// <summary>Overrides <see cref="StatsServerLimits.MaxResponseBytes"/> (key <c>Limits:MaxResponseBytes</c>).</summary>
    public long? MaxResponseBytes { get; set; }

    /// <summary>Overrides <see cref="StatsServerLimits.DrainTimeout"/> (key <c>Limits:DrainTimeout</c>, e.g. <c>00:00:05</c>).</summary>
    public TimeSpan? DrainTimeout { get; set; }
}
