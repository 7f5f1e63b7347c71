namespace StatsHandler;

/// <summary>
/// What the server lets one request's handler do, carried to <see cref="StatsResponse"/> along the request's own
/// async flow. The AsyncLocal holds a value per request flow, set by the server that serves it, so two servers (or two
/// requests) never see each other's limits; nothing is shared process-wide.
/// </summary>
internal sealed class RequestScope(long maxResponseBytes)
{
    private static readonly AsyncLocal<RequestScope?> CurrentScope = new();

    /// <summary>The scope of the request this code runs for, or null outside a server's request.</summary>
    public static RequestScope? Current
    {
        get => CurrentScope.Value;
        set => CurrentScope.Value = value;
    }

    /// <summary>The largest body the handler may send through <see cref="StatsResponse"/>.</summary>
    public long MaxResponseBytes { get; } = maxResponseBytes;
}
