namespace StatsHandler;

/// <summary>Options for a <see cref="DashboardHandler"/>; each handler has its own.</summary>
public sealed class DashboardHandlerOptions
{
    /// <summary>The default <see cref="StatsUrl"/>: <c>/api/stats</c>, where the README mounts the JSON handler.</summary>
    public const string DefaultStatsUrl = "/api/stats";

    /// <summary>
    /// The path of the JSON statistics endpoint the page polls, on the same server: an absolute path such as
    /// <c>/api/stats</c>, optionally with a query. <see cref="DefaultStatsUrl"/> by default. The page's
    /// Content-Security-Policy lets it talk to its own origin only, so a URL on another host would not load.
    /// </summary>
    public string StatsUrl { get; init; } = DefaultStatsUrl;

    /// <summary>
    /// The path where <c>StatsServer.HandleProfiles</c> is mounted on the same server, such as
    /// <c>/debug/pprof</c>: the page then shows a "CPU profile" button that takes a 10-second profile from
    /// <c>{ProfilesUrl}/profile?seconds=10&amp;format=json</c> and draws it as a flame graph, with the top functions by
    /// self and total time beside it. Null (the default) hides the button.
    /// </summary>
    public string? ProfilesUrl { get; init; }

    /// <summary>
    /// The name the page shows in its heading and tab, such as <c>Order service</c>; at most 100 characters, no
    /// control characters. Null (the default) means the entry assembly's name, or <c>StatsHandler</c> without one.
    /// </summary>
    public string? Title { get; init; }
}
