using System.Net;
using System.Reflection;

namespace StatsHandler;

/// <summary>
/// Serves a live dashboard page that polls the JSON statistics endpoint once a second and charts the last five minutes:
/// heap by generation, allocation rate, collections, pauses, CPU, working set, thread pool, lock contentions and
/// exceptions; then a chart per instrument the server exports (<c>ExportMeters</c>) and a card per published number,
/// with published strings in the header. Mount it beside the JSON handler:
/// <c>.Handle("/api/stats").Handle("/debug/dashboard", new DashboardHandler())</c>.
/// </summary>
/// <remarks>
/// <para>The page is one self-contained document built from the library's embedded resources when the handler is
/// created: no CDN, no web font, no request but the polls to its own server. Its <c>Content-Security-Policy</c>
/// allows only its own inline script and style (by SHA-256) and connections to its own origin.</para>
/// <para>History lives in the browser, so the server keeps no state for the page and pays one JSON request per second
/// per open page. The handler is immutable and thread-safe.</para>
/// </remarks>
public sealed class DashboardHandler : IStatsHandler
{
    private const string HtmlContentType = "text/html; charset=utf-8";

    private readonly DashboardPage _page;

    /// <summary>Creates a handler whose page polls <see cref="DashboardHandlerOptions.StatsUrl"/>.</summary>
    /// <param name="options">The stats endpoint to poll, the profiles mount and the page's title; the defaults
    /// (<c>/api/stats</c>, no profiles, the entry assembly's name) when null.</param>
    /// <exception cref="ArgumentException">
    /// <see cref="DashboardHandlerOptions.StatsUrl"/> is not a same-origin absolute path such as <c>/api/stats</c>,
    /// <see cref="DashboardHandlerOptions.ProfilesUrl"/> is not one without a query such as <c>/debug/pprof</c>, or
    /// <see cref="DashboardHandlerOptions.Title"/> is blank, longer than 100 characters or holds a control character.
    /// </exception>
    public DashboardHandler(DashboardHandlerOptions? options = null)
    {
        options ??= new DashboardHandlerOptions();
        string statsUrl = options.StatsUrl;
        ValidateUrl(statsUrl, nameof(DashboardHandlerOptions.StatsUrl), "'/api/stats' or '/api/stats?pp=0'", nameof(options));
        if (options.ProfilesUrl is { } profilesUrl)
        {
            ValidateUrl(profilesUrl, nameof(DashboardHandlerOptions.ProfilesUrl), "'/debug/pprof', where HandleProfiles mounts them", nameof(options));
            if (profilesUrl.Contains('?', StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"Invalid DashboardHandlerOptions.ProfilesUrl '{profilesUrl}': it takes no query, since the page adds " +
                    "'/profile?seconds=10&format=json' to it. Give the mount's path, such as '/debug/pprof'.",
                    nameof(options));
            }
        }

        string title = options.Title ?? Assembly.GetEntryAssembly()?.GetName().Name ?? "StatsHandler";
        ValidateTitle(title, nameof(options));
        StatsUrl = statsUrl;
        ProfilesUrl = options.ProfilesUrl;
        Title = title;
        _page = DashboardPage.Build(statsUrl, title, ProfilesUrl);
    }

    /// <summary>The path of the JSON endpoint the page polls.</summary>
    public string StatsUrl { get; }

    /// <summary>The path of the profiles mount the page's "CPU profile" button reads, or null when the page has no button.</summary>
    public string? ProfilesUrl { get; }

    /// <summary>The name in the page's heading and tab: <see cref="DashboardHandlerOptions.Title"/> or the entry assembly's name.</summary>
    public string Title { get; }

    /// <summary>Serves the page: the same pre-built bytes every time, with its security headers.</summary>
    /// <param name="context">The request and the response to write.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the response has been written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is null.</exception>
    public Task ServeHttpAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        WebHeaderCollection headers = context.Response.Headers;
        headers["Content-Security-Policy"] = _page.ContentSecurityPolicy;
        headers["X-Content-Type-Options"] = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        return StatsResponse.WriteAsync(context, 200, HtmlContentType, _page.Html, cancellationToken);
    }

    private static void ValidateTitle(string title, string paramName)
    {
        string? problem = title switch
        {
            _ when string.IsNullOrWhiteSpace(title) => "it is blank",
            { Length: > 100 } => $"it is {title.Length} characters long, more than the 100 a heading can show",
            _ when title.Any(char.IsControl) => "it contains a control character",
            _ => null,
        };
        if (problem is not null)
        {
            throw new ArgumentException(
                $"Invalid DashboardHandlerOptions.Title '{title}': {problem}. Give the app's name, such as 'Order service', " +
                "or leave it null for the entry assembly's name.",
                paramName);
        }
    }

    private static void ValidateUrl(string? url, string option, string example, string paramName)
    {
        string? problem = url switch
        {
            null => "it is null",
            "" => "it is empty",
            _ when url[0] != '/' => "it must start with '/' (a path on the dashboard's own server, not a full URL)",
            _ when url.StartsWith("//", StringComparison.Ordinal) => "'//' starts a URL on another host",
            _ when url.Contains('\\', StringComparison.Ordinal) => "browsers read '\\' as '/', so it could name another host",
            _ when url.Contains('#', StringComparison.Ordinal) => "a '#' fragment is never sent to the server",
            _ when url.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) => "it contains spaces or control characters",
            _ => null,
        };
        if (problem is not null)
        {
            throw new ArgumentException(
                $"Invalid DashboardHandlerOptions.{option} '{url}': {problem}. Give a same-origin absolute path, " +
                $"such as {example}.",
                paramName);
        }
    }
}
