namespace StatsHandler;

/// <summary>
/// Reports a request that failed inside a <see cref="StatsServer"/>: the method and path it was for, and the
/// exception it raised as <see cref="Exception.InnerException"/>. Passed to the callback set with
/// <see cref="StatsServer.OnError(Action{Exception})"/>; never thrown at callers.
/// </summary>
public sealed class StatsHandlerException : Exception
{
    /// <summary>Creates an exception for a failed request.</summary>
    /// <param name="method">The request's HTTP method.</param>
    /// <param name="path">The request's path, without the query string.</param>
    /// <param name="innerException">What went wrong.</param>
    public StatsHandlerException(string method, string path, Exception innerException)
        : base($"{method} {path} failed: {innerException?.Message}", innerException)
    {
        Method = method;
        Path = path;
    }

    /// <summary>Creates an exception with a message only.</summary>
    /// <param name="message">The message.</param>
    public StatsHandlerException(string message)
        : base(message)
    {
        Method = string.Empty;
        Path = string.Empty;
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public StatsHandlerException(string message, Exception innerException)
        : base(message, innerException)
    {
        Method = string.Empty;
        Path = string.Empty;
    }

    /// <summary>Creates an exception with no details.</summary>
    public StatsHandlerException()
    {
        Method = string.Empty;
        Path = string.Empty;
    }

    /// <summary>The request's HTTP method.</summary>
    public string Method { get; }

    /// <summary>The request's path, without the query string.</summary>
    public string Path { get; }
}
