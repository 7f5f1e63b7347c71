using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace StatsHandler;

/// <summary>
/// Who may use a server: credentials (bearer token, basic auth), user predicates and allowed Host names. Secrets are
/// kept only as SHA-256 digests and compared in constant time; nothing here ever prints them.
/// </summary>
internal sealed class AccessControl
{
    private const string Realm = "StatsHandler";

    private readonly List<byte[]> _bearerDigests = [];
    private readonly List<byte[]> _basicDigests = [];
    private readonly List<Func<HttpListenerRequest, bool>> _predicates = [];
    private readonly HashSet<string> _allowedHosts = new(StringComparer.OrdinalIgnoreCase);
    private bool _loopbackOnly;

    /// <summary>True when any credential is required.</summary>
    public bool RequiresCredentials => _bearerDigests.Count > 0 || _basicDigests.Count > 0;

    /// <summary>
    /// The <c>WWW-Authenticate</c> challenges for a 401, one per scheme, Basic first. Each is added as its own header
    /// value: http.sys sends one line per value, while the managed HttpListener (Linux, macOS) joins them into one line.
    /// Basic comes first because browsers read only the first challenge of a line: Chromium shows its login box for
    /// <c>Basic ..., Bearer ...</c> but ignores the Basic challenge in <c>Bearer ..., Basic ...</c>, and Bearer clients
    /// (Prometheus, curl) send their token without reading the challenge at all.
    /// </summary>
    public IReadOnlyList<string> Challenges { get; private set; } = [];

    /// <summary>Describes what is configured, without any secret.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (_bearerDigests.Count > 0)
        {
            parts.Add("bearer token");
        }

        if (_basicDigests.Count > 0)
        {
            parts.Add("basic auth");
        }

        if (_predicates.Count > 0)
        {
            parts.Add($"{_predicates.Count} predicate(s)");
        }

        if (_allowedHosts.Count > 0)
        {
            parts.Add($"hosts {string.Join(", ", _allowedHosts)}");
        }
        else if (_loopbackOnly)
        {
            parts.Add("loopback hosts only");
        }

        return parts.Count == 0 ? "open" : string.Join("; ", parts);
    }

    public void AddBearerToken(string? token)
    {
        ThrowIfMissing(token, nameof(token), "bearer token", "STATS_TOKEN");
        if (token.Length == 0 || !token.All(c => c is > ' ' and < (char)127))
        {
            // Never echo the token: it is a secret.
            throw new ArgumentException(
                "The bearer token must be non-empty printable ASCII without spaces (RFC 6750 token characters); the value given is not.",
                nameof(token));
        }

        _bearerDigests.Add(Digest(token));
        Challenges = BuildChallenges();
    }

    public void AddBasicCredentials(string? user, string? password)
    {
        ThrowIfMissing(user, nameof(user), "basic-auth user name", "STATS_USER");
        ThrowIfMissing(password, nameof(password), "basic-auth password", "STATS_PASSWORD");
        if (user.Length == 0 || user.Contains(':', StringComparison.Ordinal) || user.Any(char.IsControl))
        {
            throw new ArgumentException(
                "The basic-auth user name must be non-empty, without ':' or control characters (RFC 7617).", nameof(user));
        }

        if (password.Length == 0 || password.Any(char.IsControl))
        {
            throw new ArgumentException(
                "The basic-auth password must be non-empty and without control characters (RFC 7617); the value given is not.",
                nameof(password));
        }

        _basicDigests.Add(Digest(user + ":" + password));
        Challenges = BuildChallenges();
    }

    public void AddPredicate(Func<HttpListenerRequest, bool> predicate) => _predicates.Add(predicate);

    public void AllowHosts(IEnumerable<string> hosts)
    {
        if (_loopbackOnly)
        {
            throw new InvalidOperationException(
                "AllowHosts cannot be used on a loopback server: it already answers only loopback names and loopback clients, " +
                "and HttpListener answers any other name with its own 404 before the allowed list is read. To serve other " +
                "machines, listen on all interfaces (':8080') or on a host name, then AllowHosts(...) the names they use.");
        }

        foreach (string host in hosts)
        {
            if (string.IsNullOrWhiteSpace(host) || Uri.CheckHostName(host.Trim('[', ']')) == UriHostNameType.Unknown)
            {
                throw new ArgumentException(
                    $"Invalid host '{host}': give a host name or IP address without port or scheme, such as 'stats.example.com'.",
                    nameof(hosts));
            }

            _allowedHosts.Add(host.Trim().TrimEnd('.'));
        }
    }

    public void RestrictToLoopback() => _loopbackOnly = true;

    /// <summary>
    /// True when the client may talk to this server at all: on a loopback server only a loopback address may, whatever
    /// Host it sends (on Windows http.sys routes by Host, so a LAN client sending <c>Host: localhost</c> reaches it).
    /// </summary>
    public bool IsClientAllowed(IPEndPoint? remote) => !_loopbackOnly || IsLoopbackAddress(remote?.Address);

    /// <summary>True for 127.0.0.0/8, ::1 and their IPv4-mapped IPv6 forms.</summary>
    internal static bool IsLoopbackAddress(IPAddress? address) =>
        address is not null
        && (IPAddress.IsLoopback(address) || (address.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(address.MapToIPv4())));

    /// <summary>True when the request's Host is one this server answers to (DNS-rebinding guard).</summary>
    public bool IsHostAllowed(HttpListenerRequest request)
    {
        if (_allowedHosts.Count == 0 && !_loopbackOnly)
        {
            return true;
        }

        string? host = request.Url?.Host;
        if (string.IsNullOrEmpty(host))
        {
            return false;
        }

        host = host.TrimEnd('.');
        if (_allowedHosts.Count > 0)
        {
            return _allowedHosts.Contains(host) || _allowedHosts.Contains(host.Trim('[', ']'));
        }

        return IsLoopbackName(host);
    }

    /// <summary>True when the request carries valid credentials, or none are required.</summary>
    public bool HasValidCredentials(HttpListenerRequest request)
    {
        if (!RequiresCredentials)
        {
            return true;
        }

        string? header = request.Headers["Authorization"];
        if (header is null)
        {
            return false;
        }

        ReadOnlySpan<char> value = header.AsSpan().Trim();
        int space = value.IndexOf(' ');
        if (space <= 0)
        {
            return false;
        }

        ReadOnlySpan<char> scheme = value[..space];
        ReadOnlySpan<char> credentials = value[(space + 1)..].Trim();
        if (scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return Matches(_bearerDigests, Digest(credentials));
        }

        if (scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) && _basicDigests.Count > 0)
        {
            byte[] decoded = new byte[(credentials.Length * 3 / 4) + 3];
            if (!Convert.TryFromBase64Chars(credentials, decoded, out int length))
            {
                return false;
            }

            return Matches(_basicDigests, SHA256.HashData(decoded.AsSpan(0, length)));
        }

        return false;
    }

    /// <summary>True when every user predicate accepts the request. A predicate that throws rejects it.</summary>
    public bool IsAuthorized(HttpListenerRequest request)
    {
        foreach (Func<HttpListenerRequest, bool> predicate in _predicates)
        {
            if (!predicate(request))
            {
                return false;
            }
        }

        return true;
    }

    internal static bool IsLoopbackName(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? ip) && IPAddress.IsLoopback(ip));

    private string[] BuildChallenges()
    {
        var challenges = new List<string>(2);
        if (_basicDigests.Count > 0)
        {
            challenges.Add($"Basic realm=\"{Realm}\", charset=\"UTF-8\"");
        }

        if (_bearerDigests.Count > 0)
        {
            challenges.Add($"Bearer realm=\"{Realm}\"");
        }

        return [.. challenges];
    }

    private static void ThrowIfMissing([System.Diagnostics.CodeAnalysis.NotNull] string? value, string parameter, string what, string example)
    {
        if (value is null)
        {
            throw new ArgumentNullException(
                parameter,
                $"No {what} was given (null). When it is read from an environment variable or a setting, that value is not " +
                $"set: set it (for example 'export {example}=...' or 'setx {example} ...'), or fail with your own message, as in " +
                $"Environment.GetEnvironmentVariable(\"{example}\") ?? throw new InvalidOperationException(\"Set {example}.\").");
        }
    }

    private static bool Matches(List<byte[]> digests, byte[] candidate)
    {
        // Check every digest so the time taken does not say which one (if any) matched.
        bool match = false;
        foreach (byte[] digest in digests)
        {
            match |= CryptographicOperations.FixedTimeEquals(digest, candidate);
        }

        return match;
    }

    private static byte[] Digest(ReadOnlySpan<char> text)
    {
        // Hashing first makes the comparison constant-time in the length of the secret as well.
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(text)];
        Encoding.UTF8.GetBytes(text, bytes);
        byte[] digest = SHA256.HashData(bytes);
        CryptographicOperations.ZeroMemory(bytes);
        return digest;
    }
}
