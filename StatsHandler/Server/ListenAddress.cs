using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace StatsHandler;

/// <summary>
/// A parsed listen address (Go's <c>":8080"</c> style) and the HttpListener prefixes it stands for.
/// </summary>
internal sealed class ListenAddress
{
    // Only Windows (http.sys) can bind the IPv6 loopback, so only there is '[::1]:8080' worth suggesting.
    private static readonly string AcceptedForms = OperatingSystem.IsWindows()
        ? "Examples: ':8080' (all interfaces), 'localhost:8080', '127.0.0.1:8080', '[::1]:8080', 'myhost:8080'; port 0 picks a free port."
        : "Examples: ':8080' (all interfaces), 'localhost:8080', '127.0.0.1:8080', 'myhost:8080'; port 0 picks a free port.";

    private ListenAddress(string original, string host, int port, ListenScope scope)
    {
        Original = original;
        Host = host;
        Port = port;
        Scope = scope;
    }

    /// <summary>The text the user gave.</summary>
    public string Original { get; }

    /// <summary>The host part: <c>+</c> for all interfaces, otherwise a name or an IP literal (IPv6 in brackets).</summary>
    public string Host { get; }

    /// <summary>The requested port; 0 means any free port.</summary>
    public int Port { get; }

    /// <summary>Which interfaces the address binds.</summary>
    public ListenScope Scope { get; }

    /// <summary>True when the address binds loopback only.</summary>
    public bool IsLoopback => Scope is ListenScope.Loopback or ListenScope.LoopbackIPv6;

    /// <summary>Parses <paramref name="address"/> or throws an <see cref="ArgumentException"/> naming it.</summary>
    public static ListenAddress Parse(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        string text = address.Trim();
        if (text.Length == 0)
        {
            throw Invalid(address, "it is empty");
        }

        if (text.Contains("://", StringComparison.Ordinal) || text.Contains('/', StringComparison.Ordinal))
        {
            throw Invalid(address, "give host and port only, without a scheme or a path");
        }

        string host;
        string portText;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
            {
                throw Invalid(address, "an IPv6 address must be written as '[::1]:PORT'");
            }

            host = text[1..close];
            portText = text[(close + 2)..];
            if (!IPAddress.TryParse(host, out IPAddress? v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                throw Invalid(address, $"'{host}' is not an IPv6 address");
            }

            if (!IPAddress.IsLoopback(v6))
            {
                throw Invalid(address, "the only IPv6 address supported is the loopback '[::1]'; use ':PORT' for all interfaces");
            }

            return new ListenAddress(address, "[::1]", ParsePort(address, portText), ListenScope.LoopbackIPv6);
        }

        int colon = text.LastIndexOf(':');
        if (colon < 0)
        {
            throw Invalid(address, text.All(char.IsAsciiDigit)
                ? $"the host is missing: write ':{text}' for port {text} on all interfaces, or 'localhost:{text}' for loopback only"
                : "the port is missing");
        }

        host = text[..colon];
        portText = text[(colon + 1)..];
        if (host.Contains(':', StringComparison.Ordinal))
        {
            throw Invalid(address, "write an IPv6 address in brackets, as '[::1]:PORT'");
        }

        int port = ParsePort(address, portText);
        // "+", "*" (http.sys's wildcards) and "0.0.0.0" (the sockets' any-address) say "all interfaces" as ':PORT' does.
        if (host.Length == 0 || host is "+" or "*" or "0.0.0.0")
        {
            return new ListenAddress(address, "+", port, ListenScope.AllInterfaces);
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return new ListenAddress(address, "localhost", port, ListenScope.Loopback);
        }

        if (IPAddress.TryParse(host, out IPAddress? ip))
        {
            if (ip.AddressFamily != AddressFamily.InterNetwork || host.Count(c => c == '.') != 3)
            {
                throw Invalid(address, $"'{host}' is not a dotted IPv4 address");
            }

            return new ListenAddress(address, ip.ToString(), port, IPAddress.IsLoopback(ip) ? ListenScope.Loopback : ListenScope.Host);
        }

        if (Uri.CheckHostName(host) != UriHostNameType.Dns)
        {
            throw Invalid(address, $"'{host}' is not a valid host name");
        }

        return new ListenAddress(address, host.ToLowerInvariant(), port, ListenScope.Host);
    }

    /// <summary>
    /// The host names a request may carry in its Host header and still reach this server, each of which
    /// needs its own HttpListener prefix (HttpListener answers 404 by itself to any other name).
    /// The first one is the primary name; the others are loopback aliases.
    /// </summary>
    public IReadOnlyList<string> PrefixHosts() => Scope switch
    {
        // 127.0.0.1 and localhost are the same socket here; a client may use either name.
        ListenScope.Loopback when Host == "localhost" => ["localhost", "127.0.0.1"],
        ListenScope.Loopback when Host == "127.0.0.1" => ["127.0.0.1", "localhost"],
        _ => [Host],
    };

    /// <summary>The host to show in <see cref="StatsServer.Url"/>: a name a client on this machine can use.</summary>
    public string DisplayHost => Scope switch
    {
        ListenScope.AllInterfaces => "localhost",
        _ => Host,
    };

    /// <summary>The address a free-port probe binds, so the port it finds is free where the server will listen.</summary>
    public IPAddress ProbeAddress => Scope switch
    {
        ListenScope.Loopback when IPAddress.TryParse(Host, out IPAddress? ip) => ip,
        ListenScope.Loopback => IPAddress.Loopback,
        ListenScope.LoopbackIPv6 => IPAddress.IPv6Loopback,
        _ => IPAddress.Any,
    };

    /// <summary>Asks the OS for a port that is free right now on <see cref="ProbeAddress"/>.</summary>
    public int FindFreePort()
    {
        using var probe = new TcpListener(ProbeAddress, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <inheritdoc />
    public override string ToString() => Original;

    /// <summary>The address as given, with the port the server really listens on (port 0 resolved once started).</summary>
    public string WithPort(int port) => Port != 0 || port == 0
        ? Original
        : Scope switch
        {
            ListenScope.AllInterfaces => $":{port}",
            _ => $"{Host}:{port}",
        };

    private static int ParsePort(string address, string portText)
    {
        if (portText.Length == 0)
        {
            throw Invalid(address, "the port is missing");
        }

        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            throw Invalid(address, $"port '{portText}' must be 1-65535, or 0 for any free port");
        }

        return port;
    }

    private static ArgumentException Invalid(string address, string why) =>
        new($"Invalid address '{address}': {why}. {AcceptedForms}", nameof(address));
}

/// <summary>Which interfaces a <see cref="ListenAddress"/> binds.</summary>
internal enum ListenScope
{
    /// <summary>Every interface (<c>":8080"</c>).</summary>
    AllInterfaces,

    /// <summary>IPv4 loopback, by name or by address.</summary>
    Loopback,

    /// <summary>IPv6 loopback (<c>"[::1]:8080"</c>).</summary>
    LoopbackIPv6,

    /// <summary>One named host or non-loopback address.</summary>
    Host,
}
