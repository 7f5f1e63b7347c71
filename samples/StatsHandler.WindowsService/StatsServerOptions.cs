namespace StatsHandler.WindowsService;

/// <summary>The "StatsServer" section of appsettings.json.</summary>
internal sealed class StatsServerOptions
{
    public const string Section = "StatsServer";

    /// <summary>
    /// Where to listen. <c>localhost:PORT</c> needs no URL ACL on Windows; <c>:PORT</c> (all interfaces) needs
    /// <c>netsh http add urlacl</c> for the service account, or the service running as LocalSystem.
    /// </summary>
    public string Address { get; set; } = "localhost:8080";

    /// <summary>The path the runtime statistics are served on.</summary>
    public string Path { get; set; } = "/api/stats";
}
