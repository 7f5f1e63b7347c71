namespace StatsHandler.Hosting;

/// <summary>
/// The settings of the server <c>AddStatsServer</c> runs, read from a configuration section (for example
/// <c>"StatsServer"</c> in appsettings.json or <c>StatsServer__Address</c> in the environment) and checked when the
/// host starts. Every key is optional.
/// </summary>
/// <remarks>
/// Keys under the section: <c>Address</c>, <c>BearerToken</c>, <c>BasicAuth:User</c>, <c>BasicAuth:Password</c>,
/// <c>AllowedHosts</c> and <c>AllowAnonymous</c> (each a list, or one string separated by <c>;</c>), <c>ConstantLabels:NAME</c> (one key per label),
/// and <c>Limits:MaxUrlLength</c>,
/// <c>Limits:MaxConcurrentRequests</c>, <c>Limits:RequestTimeout</c>, <c>Limits:MaxResponseBytes</c>,
/// <c>Limits:DrainTimeout</c> (time spans as <c>00:00:10</c>). A key the section does not know fails the start, so a
/// misspelt setting is never silently ignored.
/// </remarks>
public sealed class StatsServerOptions
{
    /// <summary>The address used when the configuration names none: loopback, port 8080.</summary>
    public const string DefaultAddress = "localhost:8080";

    /// <summary>
    /// Where to listen, in the forms <see cref="StatsServer(string)"/> takes: <c>localhost:8080</c> (the default;
    /// loopback only), <c>:8080</c> (all interfaces), <c>127.0.0.1:0</c> (any free port).
    /// </summary>
    public string Address { get; set; } = DefaultAddress;

    /// <summary>When set, every request needs <c>Authorization: Bearer</c> with this token (see <see cref="StatsServer.RequireBearerToken"/>).</summary>
    public string? BearerToken { get; set; }

    /// <summary>When set with <see cref="BasicAuthPassword"/>, every request needs HTTP basic authentication as this user.</summary>
    public string? BasicAuthUser { get; set; }

    /// <summary>The password for <see cref="BasicAuthUser"/>.</summary>
    public string? BasicAuthPassword { get; set; }

    /// <summary>Host names the server answers (see <see cref="StatsServer.AllowHosts"/>); empty: the server's default.</summary>
    public IList<string> AllowedHosts { get; } = [];

    /// <summary>
    /// Routes served without credentials (see <see cref="StatsServer.AllowAnonymous"/>), such as <c>/healthz</c> for a
    /// load balancer's probe when a bearer token or basic auth is set; each must be mounted by the configure callback.
    /// </summary>
    public IList<string> AllowAnonymous { get; } = [];

    /// <summary>
    /// Labels every Prometheus sample carries (see <see cref="StatsServer.AddConstantLabel"/>), such as
    /// <c>service</c> or <c>region</c>: in configuration, <c>"ConstantLabels": { "service": "orders" }</c>.
    /// </summary>
    public IDictionary<string, string> ConstantLabels { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Overrides of <see cref="StatsServer.Limits"/>; a limit left null keeps the server's default.</summary>
    public StatsServerLimitsOptions Limits { get; } = new();

    /// <summary>
    /// The configuration path the settings came from, such as <c>StatsServer</c>: start-up errors name each key under it,
    /// for example <c>StatsServer:Address</c>.
    /// </summary>
    public string ConfigurationPath { get; set; } = "StatsServer";

    /// <summary>Values that could not be read from configuration, each naming its key; reported when the host starts.</summary>
    internal List<string> ReadErrors { get; } = [];
}
