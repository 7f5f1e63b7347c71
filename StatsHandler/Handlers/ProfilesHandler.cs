using System.Net;
using System.Text;

namespace StatsHandler;

/// <summary>
/// The profiles mounted with <c>StatsServer.HandleProfiles</c>, like Go's <c>net/http/pprof</c>: an index page at the
/// mount, and <c>{mount}/profile</c> (CPU), <c>{mount}/threads</c> (every managed thread's stack) and
/// <c>{mount}/heap</c> (live objects by type), each collected on demand from a session on the process's own
/// diagnostic port. Nothing runs until one is asked for.
/// </summary>
/// <remarks>
/// <para>One trace or profile at a time in the process (<see cref="DiagnosticGate"/>: another gets 409). A collection
/// ends when its time is up, when its client goes away (the connection table is watched while nothing is written),
/// when the server stops (503) and when the route times out. Bad options get 400, a process without a diagnostic port
/// 503, each with a JSON body.</para>
/// <para>Formats follow Go's where Go has the route: <c>profile</c> and <c>heap</c> answer pprof (gzipped
/// <c>profile.proto</c>) by default, so <c>go tool pprof URL</c> works as it is; <c>heap?debug=1</c> is text as in Go;
/// <c>threads</c> is text (Go's <c>goroutine?debug=2</c>). Every route takes <c>?format=json</c>
/// (<c>&amp;pp=1</c> to indent), the CPU profile's being the dashboard's flame-graph form.</para>
/// </remarks>
internal sealed class ProfilesHandler
{
    /// <summary>The CPU profile's length when <c>?seconds=</c> is not given, as in Go.</summary>
    public const int DefaultSeconds = 10;

    /// <summary>The request timeout each route gets: the longest profile and time to resolve and write it.</summary>
    public static readonly TimeSpan RouteTimeout = TimeSpan.FromSeconds(DiagnosticRequest.MaxSeconds) + TimeSpan.FromSeconds(60);

    private const string HtmlContentType = "text/html; charset=utf-8";
    private const string PprofContentType = "application/octet-stream";

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    private readonly string _mount;
    private readonly ProfileCollectors _collectors;
    private readonly CancellationToken _serverStopping;

    /// <summary>Creates the routes of a mount at <paramref name="mount"/> (an absolute path) that collect with <paramref name="collectors"/>.</summary>
    public ProfilesHandler(string mount, ProfileCollectors collectors, CancellationToken serverStopping)
    {
        _mount = mount.Length > 1 ? mount.TrimEnd('/') : string.Empty;
        _collectors = collectors;
        _serverStopping = serverStopping;
    }

    /// <summary>What each route is: its path under the mount, what it collects, and the index page's line for it.</summary>
    private enum Kind
    {
        Index,
        Cpu,
        Threads,
        Heap,
    }

    /// <summary>The patterns to mount and their handlers: the index at the mount, then one per profile.</summary>
    public IEnumerable<(string Pattern, IStatsHandler Handler)> Routes()
    {
        yield return (_mount.Length == 0 ? "/" : _mount, new Route(this, Kind.Index));
        yield return (_mount + "/profile", new Route(this, Kind.Cpu));
        yield return (_mount + "/threads", new Route(this, Kind.Threads));
        yield return (_mount + "/heap", new Route(this, Kind.Heap));
    }

    private Task ServeAsync(Kind kind, HttpListenerContext context, CancellationToken cancellationToken) => kind switch
    {
        Kind.Index => ServeIndexAsync(context, cancellationToken),
        _ => CollectAsync(kind, context, cancellationToken),
    };

    private async Task CollectAsync(Kind kind, HttpListenerContext context, CancellationToken requestToken)
    {
        HttpListenerRequest request = context.Request;
        if (!TryParse(kind, request, out int seconds, out string format, out string? error))
        {
            await StatsResponse.WriteErrorAsync(context, 400, error, requestToken).ConfigureAwait(false);
            return;
        }

        if (DiagnosticPort.Unavailable() is { } unavailable)
        {
            await StatsResponse.WriteErrorAsync(context, 503, $"cannot profile: {unavailable}", requestToken).ConfigureAwait(false);
            return;
        }

        ProfileResult? result = null;
        string? portError = null;
        bool clientGone;
        using (DiagnosticGate.Lease? lease = DiagnosticGate.TryEnter(Describe(kind), out string? busy))
        {
            if (lease is null)
            {
                await StatsResponse.WriteErrorAsync(context, 409, busy!, requestToken).ConfigureAwait(false);
                return;
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(requestToken, _serverStopping);
            Task<bool> watch = DiagnosticRequest.WatchClientAsync(request, stop);
            try
            {
                // A thread of its own: the collector blocks for up to a minute reading its session.
                result = await Task.Factory.StartNew(
                    () => Collect(kind, seconds, stop.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                    .ConfigureAwait(false);
            }
            catch (IOException e)
            {
                portError = e.Message;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Ended early: why is sorted out below, once the session is gone.
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                clientGone = await watch.ConfigureAwait(false);
            }
        }

        // The gate is free again before the client sees the end, so its next request finds the process free.
        if (clientGone)
        {
            context.Response.Abort();
            return;
        }

        if (_serverStopping.IsCancellationRequested)
        {
            context.Response.KeepAlive = false;
            await StatsResponse.WriteErrorAsync(context, 503, $"server is stopping: {Describe(kind)} was cut short", CancellationToken.None).ConfigureAwait(false);
            return;
        }

        requestToken.ThrowIfCancellationRequested();
        if (portError is not null || result is null)
        {
            await StatsResponse.WriteErrorAsync(context, 503, $"cannot profile: {portError ?? "the collection ended early"}", requestToken).ConfigureAwait(false);
            return;
        }

        await WriteAsync(context, kind, format, result, requestToken).ConfigureAwait(false);
    }

    private ProfileResult Collect(Kind kind, int seconds, CancellationToken cancel) => kind switch
    {
        Kind.Cpu => _collectors.Cpu(TimeSpan.FromSeconds(seconds), cancel),
        Kind.Threads => _collectors.Threads(cancel),
        _ => _collectors.Heap(cancel),
    };

    private static async Task WriteAsync(HttpListenerContext context, Kind kind, string format, ProfileResult result, CancellationToken cancellationToken)
    {
        if (format == "json")
        {
            bool indented = QueryString.IsTrue(context.Request.RawUrl, "pp");
            await StatsResponse.WriteJsonAsync(context, 200, result.WriteJson, indented, cancellationToken).ConfigureAwait(false);
        }
        else if (format == "text" && result.WriteText is { } writeText)
        {
            using var buffer = new MemoryStream();
            using (var writer = new StreamWriter(buffer, Utf8NoBom, bufferSize: 16 * 1024, leaveOpen: true))
            {
                writeText(writer);
            }

            await StatsResponse.WriteAsync(context, 200, StatsResponse.TextContentType, buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken)
                .ConfigureAwait(false);
        }
        else if (format == "pprof" && result.ToPprof is { } toPprof)
        {
            context.Response.Headers["Content-Disposition"] = $"attachment; filename=\"{(kind == Kind.Heap ? "heap" : "profile")}.pb.gz\"";
            await StatsResponse.WriteAsync(context, 200, PprofContentType, toPprof(), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // TryParse offers only the forms each kind has; a collector that lacks one is a bug, not the client's.
            throw new InvalidOperationException($"The {kind} collector gave no {format} form.");
        }
    }

    /// <summary>
    /// Reads a profile route's options: <c>seconds</c> (CPU only), <c>format</c>, and for the heap Go's <c>debug</c>;
    /// false with the 400's message when one is bad.
    /// </summary>
    private static bool TryParse(Kind kind, HttpListenerRequest request, out int seconds, out string format, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        seconds = DefaultSeconds;
        error = null;
        string[] formats = kind switch
        {
            Kind.Cpu => ["pprof", "json"],
            Kind.Threads => ["text", "json"],
            _ => ["pprof", "text", "json"],
        };
        format = formats[0];
        if (kind == Kind.Cpu && !DiagnosticRequest.TryParseSeconds(request, DefaultSeconds, out seconds, out error))
        {
            return false;
        }

        string? debug = request.QueryString["debug"];
        if (debug is not null)
        {
            if (debug is not ("0" or "1" or "2"))
            {
                error = $"debug='{debug}' is not 0, 1 or 2; ?debug=1 asks for text, as in Go's net/http/pprof";
                return false;
            }

            // As in Go: debug=0 is the binary form, anything more is text.
            format = debug == "0" || !formats.Contains("text") ? formats[0] : "text";
        }

        string? asked = request.QueryString["format"];
        if (asked is not null)
        {
            format = asked.ToLowerInvariant();
            if (!formats.Contains(format))
            {
                error = $"format='{asked}' is not one of {string.Join(", ", formats)}";
                return false;
            }
        }

        return true;
    }

    /// <summary>What a collection is called in a 409 or 503: "a CPU profile".</summary>
    private static string Describe(Kind kind) => kind switch
    {
        Kind.Cpu => "a CPU profile",
        Kind.Threads => "a thread-stack sample",
        _ => "a heap snapshot",
    };

    private async Task ServeIndexAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        // The URL the client used, so the commands work as they are pasted (the port is the real one).
        string url = context.Request.Url!.GetLeftPart(UriPartial.Authority) + _mount;
        byte[] html = Utf8NoBom.GetBytes(IndexHtml(url));
        context.Response.Headers["Content-Security-Policy"] = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
        await StatsResponse.WriteAsync(context, 200, HtmlContentType, html, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The index page: each profile with a line on what it does and costs, a link, and its commands.</summary>
    internal static string IndexHtml(string url)
    {
        var html = new StringBuilder(4096);
        string at = WebUtility.HtmlEncode(url);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
            .Append(at).Append("/</title>\n</head>\n<body>\n<h1>").Append(at).Append("/</h1>\n<p>Profiles of process ")
            .Append(Environment.ProcessId).Append(" (").Append(WebUtility.HtmlEncode(AppDomain.CurrentDomain.FriendlyName))
            .Append("), collected on demand from its own diagnostic port. One trace or profile at a time in the process; each ")
            .Append("stops when its time is up, when its client goes away and when the server stops. Nothing runs until one is asked for.</p>\n")
            .Append("<table border=\"1\" cellpadding=\"4\">\n<tr><th>Profile</th><th>What it shows, and what it costs</th><th>Commands</th></tr>\n");
        Row(html, at, "profile?seconds=10", "CPU profile",
            "Where the CPU time goes: every managed thread's stack sampled each millisecond for ?seconds=N (default 10, at most 60), "
            + "methods named by a rundown at the end. pprof (gzipped profile.proto); ?format=json is the dashboard's flame-graph form.",
            $"curl -o profile.pb.gz '{url}/profile?seconds=10'", $"go tool pprof -top '{url}/profile?seconds=10'");
        Row(html, at, "threads", "Thread stacks",
            "Every managed thread's stack now, with its id and name, from a short sampling session (like Go's goroutine?debug=2). "
            + "Text; ?format=json.",
            $"curl '{url}/threads'", "(text only: no go tool pprof form)");
        Row(html, at, "heap", "Heap by type",
            "Live objects by type, count and bytes, largest first. It induces a full blocking collection: every thread stops for it. "
            + "pprof (inuse_objects, inuse_space) as in Go; ?debug=1 text; ?format=json.",
            $"curl '{url}/heap?debug=1'", $"go tool pprof -sample_index=inuse_space -top '{url}/heap'");
        html.Append("</table>\n<p>Behind credentials, give curl <code>-u user:pass</code> or <code>-H 'Authorization: Bearer TOKEN'</code>; ")
            .Append("go tool pprof takes Basic credentials in the URL (<code>http://user:pass@host:port/...</code>).</p>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static void Row(StringBuilder html, string at, string link, string name, string what, string curl, string pprof)
    {
        html.Append("<tr><td><a href=\"").Append(at).Append('/').Append(WebUtility.HtmlEncode(link)).Append("\">").Append(name)
            .Append("</a></td><td>").Append(WebUtility.HtmlEncode(what)).Append("</td><td><pre>").Append(WebUtility.HtmlEncode(curl))
            .Append('\n').Append(WebUtility.HtmlEncode(pprof)).Append("</pre></td></tr>\n");
    }

    /// <summary>One of the mount's routes.</summary>
    private sealed class Route(ProfilesHandler owner, Kind kind) : IStatsHandler
    {
        public Task ServeHttpAsync(HttpListenerContext context, CancellationToken cancellationToken) =>
            owner.ServeAsync(kind, context, cancellationToken);
    }
}
