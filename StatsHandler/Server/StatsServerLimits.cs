namespace StatsHandler;

/// <summary>
/// The limits a <see cref="StatsServer"/> enforces on every request, with safe defaults. Change them through
/// <see cref="StatsServer.Limits"/> before the server starts; they are read-only afterwards.
/// </summary>
/// <remarks>
/// HttpListener owns the socket, so some limits only it could enforce are out of reach: it reads a whole request
/// line before the server sees it, and it has no header timeout on Linux. The README's "Security and limits" section
/// says what that means and what to do about it (bind to loopback, or put a reverse proxy in front).
/// </remarks>
public sealed class StatsServerLimits
{
    private int _maxUrlLength = 8 * 1024;
    private int _maxConcurrentRequests = 100;
    private TimeSpan _requestTimeout = TimeSpan.FromSeconds(10);
    private long _maxResponseBytes = 16L * 1024 * 1024;
    private TimeSpan _drainTimeout = TimeSpan.FromSeconds(5);
    private bool _frozen;

    /// <summary>
    /// The longest raw request target (path and query) accepted, in characters; longer ones get 414. 8 KB by default,
    /// as Kestrel's request-line limit.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not between 64 and 1,048,576.</exception>
    /// <exception cref="InvalidOperationException">The server has started.</exception>
    public int MaxUrlLength
    {
        get => _maxUrlLength;
        set => _maxUrlLength = Checked(value, 64, 1024 * 1024, nameof(MaxUrlLength), "8192");
    }

    /// <summary>
    /// The most requests served at once; beyond it a request gets 503 with <c>Retry-After: 1</c> at once. 100 by default.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not between 1 and 100,000.</exception>
    /// <exception cref="InvalidOperationException">The server has started.</exception>
    public int MaxConcurrentRequests
    {
        get => _maxConcurrentRequests;
        set => _maxConcurrentRequests = Checked(value, 1, 100_000, nameof(MaxConcurrentRequests), "100");
    }

    /// <summary>
    /// How long a handler may take: past it the handler's token is cancelled and the client gets 503. 10 s by default.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not between 1 ms and 10 minutes.</exception>
    /// <exception cref="InvalidOperationException">The server has started.</exception>
    public TimeSpan RequestTimeout
    {
        get => _requestTimeout;
        set => _requestTimeout = Checked(value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(10), nameof(RequestTimeout), "TimeSpan.FromSeconds(10)");
    }

    /// <summary>
    /// The largest body a handler may send through <see cref="StatsResponse"/>; a bigger one gets 500 before any byte
    /// is sent. 16 MiB by default. A handler writing to the output stream itself is not covered: HttpListener gives no hook.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not between 1 KiB and 1 GiB.</exception>
    /// <exception cref="InvalidOperationException">The server has started.</exception>
    public long MaxResponseBytes
    {
        get => _maxResponseBytes;
        set => _maxResponseBytes = Checked(value, 1024L, 1024L * 1024 * 1024, nameof(MaxResponseBytes), "16 * 1024 * 1024");
    }

    /// <summary>
    /// How long <see cref="StatsServer.StopAsync"/> lets in-flight requests finish before it aborts them. 5 s by default.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not between 0 and 10 minutes.</exception>
    /// <exception cref="InvalidOperationException">The server has started.</exception>
    public TimeSpan DrainTimeout
    {
        get => _drainTimeout;
        set => _drainTimeout = Checked(value, TimeSpan.Zero, TimeSpan.FromMinutes(10), nameof(DrainTimeout), "TimeSpan.FromSeconds(5)");
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"MaxUrlLength={MaxUrlLength}, MaxConcurrentRequests={MaxConcurrentRequests}, RequestTimeout={RequestTimeout}, " +
        $"MaxResponseBytes={MaxResponseBytes}, DrainTimeout={DrainTimeout}";

    /// <summary>Makes the limits read-only; the server calls it when it starts.</summary>
    internal void Freeze() => _frozen = true;

    private T Checked<T>(T value, T min, T max, string name, string example)
        where T : IComparable<T>
    {
        if (_frozen)
        {
            throw new InvalidOperationException($"Cannot set {name}: the server has already started. Set limits before StartAsync.");
        }

        if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} {value} must be between {min} and {max}, for example {example}.");
        }

        return value;
    }
}
