using System.Buffers;

namespace StatsHandler;

/// <summary>
/// The server's mux, as Go's <c>ServeMux</c>: which handler serves which path, and which routes are open without
/// credentials. Patterns are exact paths; a pattern matches its path with and without a trailing slash. Written only
/// before the server starts (under the server's lock), read without locking afterwards.
/// </summary>
internal sealed class RouteTable
{
    private static readonly SearchValues<char> BadPatternChars = SearchValues.Create("?# \t\r\n");

    private readonly Dictionary<string, Route> _routes = new(StringComparer.Ordinal);
    private readonly List<IDisposable> _owned = [];

    /// <summary>
    /// Mounts the handler <paramref name="create"/> makes on <paramref name="pattern"/>, once the pattern is known to be
    /// free (so a refused mount leaves no handler behind); disposes it with the table when <paramref name="owned"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The pattern is not an absolute path.</exception>
    /// <exception cref="InvalidOperationException">The pattern, or the same path with or without a trailing slash, is mounted already.</exception>
    public void Add(string pattern, Func<IStatsHandler> create, bool owned, TimeSpan? timeout = null)
    {
        string key = ThrowIfMounted(pattern);
        IStatsHandler handler = create();
        _routes.Add(key, new Route(pattern, handler) { Timeout = timeout });
        if (owned && handler is IDisposable disposable)
        {
            _owned.Add(disposable);
        }
    }

    /// <summary>
    /// Mounts a group of routes that belong together (a profiles mount: the index and its profiles), all or none: when
    /// one pattern is taken, nothing is mounted. The caller keeps the handlers.
    /// </summary>
    /// <exception cref="ArgumentException">A pattern is not an absolute path.</exception>
    /// <exception cref="InvalidOperationException">A pattern is mounted already.</exception>
    public void AddGroup(IEnumerable<(string Pattern, IStatsHandler Handler)> routes, TimeSpan? timeout)
    {
        (string Pattern, IStatsHandler Handler)[] group = [.. routes];
        foreach ((string pattern, _) in group)
        {
            ThrowIfMounted(pattern);
        }

        foreach ((string pattern, IStatsHandler handler) in group)
        {
            _routes.Add(Normalize(pattern), new Route(pattern, handler) { Timeout = timeout });
        }
    }

    /// <summary>Checks <paramref name="pattern"/> without mounting anything.</summary>
    /// <exception cref="ArgumentException">The pattern is not an absolute path.</exception>
    public static void Validate(string pattern) => Normalize(pattern);

    /// <summary>Lets requests to <paramref name="pattern"/> through without credentials or authorization predicates.</summary>
    /// <exception cref="InvalidOperationException">Nothing is mounted on the pattern.</exception>
    public void AllowAnonymous(string pattern)
    {
        if (!_routes.TryGetValue(Normalize(pattern), out Route? route))
        {
            throw new InvalidOperationException(
                $"Cannot allow anonymous access to '{pattern}': nothing is mounted there. Mount it first, for example " +
                $".HandleFunc(\"{pattern}\", ...).AllowAnonymous(\"{pattern}\").");
        }

        route.Anonymous = true;
    }

    /// <summary>Finds the route for a request path.</summary>
    public bool TryMatch(string path, out Route route)
    {
        string key = path.Length > 1 && path[^1] == '/' ? path[..^1] : path;
        return _routes.TryGetValue(key, out route!);
    }

    /// <summary>Disposes the handlers the server created itself; the caller's own handlers stay the caller's.</summary>
    public void DisposeOwned()
    {
        IDisposable[] owned = [.. _owned];
        _owned.Clear();
        foreach (IDisposable handler in owned)
        {
            handler.Dispose();
        }
    }

    /// <summary>Returns the key of <paramref name="pattern"/>, once it is known to be free.</summary>
    private string ThrowIfMounted(string pattern)
    {
        string key = Normalize(pattern);
        if (_routes.TryGetValue(key, out Route? existing))
        {
            throw new InvalidOperationException(existing.Pattern == pattern
                ? $"Pattern '{pattern}' is already mounted on this server; each path takes one handler."
                : $"Pattern '{pattern}' is the same route as '{existing.Pattern}', which is already mounted: a pattern matches its path with and without a trailing slash, and each path takes one handler.");
        }

        return key;
    }

    private static string Normalize(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (pattern.Length == 0 || pattern[0] != '/' || pattern.Contains("//", StringComparison.Ordinal)
            || pattern.AsSpan().IndexOfAny(BadPatternChars) >= 0)
        {
            throw new ArgumentException(
                $"Invalid pattern '{pattern}': give an absolute path without query or spaces, such as '/api/stats'.", nameof(pattern));
        }

        return pattern.Length > 1 && pattern[^1] == '/' ? pattern[..^1] : pattern;
    }

    /// <summary>One mounted path.</summary>
    internal sealed class Route(string pattern, IStatsHandler handler)
    {
        /// <summary>The pattern as it was mounted.</summary>
        public string Pattern { get; } = pattern;

        /// <summary>The handler that serves it.</summary>
        public IStatsHandler Handler { get; } = handler;

        /// <summary>The route's own request timeout (a trace runs for up to a minute), or null for the server's.</summary>
        public TimeSpan? Timeout { get; init; }

        /// <summary>True when the route skips credentials and authorization predicates (never the network guards).</summary>
        public bool Anonymous { get; set; }
    }
}
