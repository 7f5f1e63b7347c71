using System.Diagnostics;
using System.Net;

namespace StatsHandler;

/// <summary>
/// A small HTTP server on <see cref="HttpListener"/> that serves runtime statistics, and any handler you mount,
/// without ASP.NET: <c>new StatsServer(":8080").Handle("/api/stats")</c>, shaped like Go's <c>http.HandleFunc</c>.
/// </summary>
/// <remarks>
/// <para>Mount handlers with <see cref="Handle(string)"/>, <see cref="Handle(string, IStatsHandler)"/> and
/// <see cref="HandleFunc(string, StatsHandlerFunc)"/>, then call <see cref="StartAsync"/> or
/// <see cref="ListenAndServeAsync"/>. A pattern matches its exact path, and the same path with a trailing slash.
/// Only GET and HEAD are served (405 otherwise); unknown paths get a 404; a handler that throws gives a 500. Every error
/// has a JSON body, is reported to <see cref="OnError(Action{Exception})"/>, and never stops the server.</para>
/// <para>On Windows, listening on all interfaces (<c>":8080"</c>) or on a host name needs a URL ACL
/// (<c>netsh http add urlacl url=http://+:8080/ user=DOMAIN\user</c>) or an elevated process; <c>"localhost:8080"</c>
/// needs neither. On Linux and macOS HttpListener cannot bind an IPv6 literal, so <c>"[::1]:8080"</c> works on Windows only.</para>
/// </remarks>
public sealed class StatsServer : IAsyncDisposable, IDisposable
{
    // Requests cancelled by a stop answer 503 at once; this is how long they get to send it before the listener closes.
    private static readonly TimeSpan CancelledRequestGrace = TimeSpan.FromMilliseconds(500);

    // Past this, an accept loop that has not ended after the listener closed is left to end on its own.
    private static readonly TimeSpan AcceptLoopGrace = TimeSpan.FromMilliseconds(300);

    private readonly ListenAddress _address;
    private readonly RouteTable _routes = new();
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private string? _diagnosticExposure; // what the first trace or profile mount would expose off loopback, or null
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly AccessControl _access = new();
    private Action<Exception>? _onError;
    private HttpListener? _listener;
    private RequestDispatcher? _dispatcher;
    private Task? _stopTask;
    private ServerState _state;
    private int _port;

    /// <summary>How the server closes its listener: HttpListener's own close, replaced only by tests that make it fail.</summary>
    internal Action<HttpListener> CloseListener { get; init; } = static listener => listener.Close();

    /// <summary>Creates a server that will listen on <paramref name="address"/> once started.</summary>
    /// <param name="address">
    /// <c>":8080"</c> (all interfaces, as in Go; <c>"0.0.0.0:8080"</c>, <c>"*:8080"</c> and <c>"+:8080"</c> mean the same), <c>"localhost:8080"</c>, <c>"127.0.0.1:8080"</c>, <c>"[::1]:8080"</c>,
    /// <c>"myhost:8080"</c>; port 0 picks a free port, which <see cref="Url"/> shows once started.
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="address"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="address"/> is not one of the accepted forms.</exception>
    /// <exception cref="PlatformNotSupportedException"><paramref name="address"/> is <c>[::1]</c> on Linux or macOS.</exception>
    public StatsServer(string address)
    {
        _address = ListenAddress.Parse(address);
        if (_address.Scope == ListenScope.LoopbackIPv6 && !OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException(
                $"Cannot listen on '{address}': HttpListener on Linux and macOS cannot bind an IPv6 address. " +
                $"Use 'localhost:{_address.Port}' or '127.0.0.1:{_address.Port}' for loopback.");
        }

        Source = new StatsSource(Report);
        if (_address.IsLoopback)
        {
            // DNS-rebinding guard: a page on another site must not read a loopback server through a name it controls.
            _access.RestrictToLoopback();
        }
    }

    /// <summary>
    /// The server's base address, as <c>http://127.0.0.1:50123/</c>: with the real port once started when port 0 was
    /// asked. For an all-interfaces address it names <c>localhost</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">Port 0 was asked and the server has not started yet.</exception>
    public Uri Url
    {
        get
        {
            int port = Volatile.Read(ref _port);
            if (port == 0)
            {
                port = _address.Port;
            }

            if (port == 0)
            {
                throw new InvalidOperationException(
                    $"The server on '{_address}' picks its port when it starts; read Url after StartAsync.");
            }

            return new Uri($"http://{_address.DisplayHost}:{port}/");
        }
    }

    /// <summary>True between a successful start and the beginning of a stop.</summary>
    public bool IsListening
    {
        get
        {
            lock (_lock)
            {
                return _state == ServerState.Running;
            }
        }
    }

    /// <summary>
    /// The limits enforced on every request (URL length, concurrency, handler time, response size, drain time), with
    /// safe defaults. Change them before the server starts; afterwards they are read-only.
    /// </summary>
    public StatsServerLimits Limits { get; } = new();

    /// <summary>Mounts the default runtime-statistics JSON handler (<see cref="RuntimeStatsHandler"/>) on <paramref name="pattern"/>.</summary>
    /// <param name="pattern">An absolute path such as <c>/api/stats</c>.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="pattern"/> is not an absolute path.</exception>
    /// <exception cref="InvalidOperationException">The pattern is already mounted, or the server has started.</exception>
    /// <exception cref="ObjectDisposedException">The server has been disposed.</exception>
    public StatsServer Handle(string pattern)
    {
        return Mount(pattern, () => new RuntimeStatsHandler(Source), owned: true);
    }

    /// <summary>
    /// Mounts a runtime-statistics JSON handler with <paramref name="options"/> on <paramref name="pattern"/>, reading
    /// <see cref="Source"/>: <c>Handle("/api/stats", new RuntimeStatsHandlerOptions { Indented = true })</c>.
    /// </summary>
    /// <param name="pattern">An absolute path such as <c>/api/stats</c>.</param>
    /// <param name="options">Output and sampling options.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="pattern"/> is not an absolute path.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The options' rate interval is out of range.</exception>
    /// <exception cref="InvalidOperationException">The pattern is already mounted, or the server has started.</exception>
    /// <exception cref="ObjectDisposedException">The server has been disposed.</exception>
    public StatsServer Handle(string pattern, RuntimeStatsHandlerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Mount(pattern, () => new RuntimeStatsHandler(Source, options), owned: true);
    }

    /// <summary>Mounts <paramref name="handler"/> on <paramref name="pattern"/>.</summary>
    /// <param name="pattern">An absolute path such as <c>/api/stats</c>.</param>
    /// <param name="handler">The handler; the caller keeps ownership and disposes it if it needs to.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="handler"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="pattern"/> is not an absolute path.</exception>
    /// <exception cref="InvalidOperationException">The pattern is already mounted, or the server has started.</exception>
    /// <exception cref="ObjectDisposedException">The server has been disposed.</exception>
    public StatsServer Handle(string pattern, IStatsHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return Mount(pattern, () => handler, owned: false);
    }

    /// <summary>
    /// Mounts a format of your own on <paramref name="pattern"/>: each request captures one snapshot from
    /// <see cref="Source"/> (as the built-in handlers do) and <paramref name="writer"/> writes it, for example
    /// <c>Handle("/influx", new LineProtocolWriter())</c>.
    /// </summary>
    /// <param name="pattern">An absolute path such as <c>/influx</c>.</param>
    /// <param name="writer">The format; called concurrently.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="writer"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="pattern"/> is not an absolute path.</exception>
    /// <exception cref="InvalidOperationException">The pattern is already mounted, or the server has started.</exception>
    /// <exception cref="ObjectDisposedException">The server has been disposed.</exception>
    public StatsServer Handle(string pattern, IStatsWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return Mount(pattern, () => new WriterHandler(writer, Source), owned: true);
    }

    /// <summary>Mounts a delegate on <paramref name="pattern"/>, like Go's <c>http.HandleFunc</c>.</summary>
    /// <param name="pattern">An absolute path such as <c>/healthz</c>.</param>
    /// <param name="handler">The delegate that serves each request.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="handler"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="pattern"/> is not an absolute path.</exception>
    /// <exception cref="InvalidOperationException">The pattern is already mounted, or the server has started.</exception>
    /// <exception cref="ObjectDisposedException">The server has been disposed.</exception>
    public StatsServer HandleFunc(string pattern, StatsHandlerFunc handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return Handle(pattern, new FuncHandler(handler));
    }

    /// <summary>
    /// Mounts a Prometheus handler (<see cref="PrometheusHandler"/>) on <paramref name="pattern"/>: the runtime statistics
    /// as <c>process_*</c> and <c>dotnet_*</c> families, plus <see cref="Source"/>'s published values and exported meters,
    /// in the text format 0.0.4 or, when the scraper's <c>Accept</c> header prefers it, OpenMetrics 1.0. With
    /// <paramref name="options"/>, for example without the built-in runtime families:
    /// <c>HandlePrometheus("/metrics", new() { IncludeRuntimeMetrics = false })</c>.
    /// </summary>
    /// <param name="pattern">An absolute path, usually <c>/metrics</c>.</param>
    /// <param name="options">What to write beside the published values and meters; the defaults when null.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="pattern"/> is not an absolute path.</exception>
    /// <exception cref="InvalidOperationException">The pattern is already mounted, or the server has started.</exception>
    /// <exception cref="ObjectDisposedException">The server has been disposed.</exception>
    public StatsServer HandlePrometheus(string pattern, PrometheusHandlerOptions? options = null)
    {
        return Mount(pattern, () => new PrometheusHandler(Source, options), owned: true);
    }

    /// <summary>
    /// What this server's handlers capture from: the runtime probe they share, GC events, published values, the app's
    /// meters, constant labels. <see cref="Publish(string, Func{long})"/>, <see cref="ExportMeters"/>,
    /// <see cref="EnableGcEvents()"/>, <see cref="AddConstantLabel"/> and <see cref="MaxSeriesPerInstrument"/> forward to it
    /// with no rule of their own. Give it to a handler or collector you build yourself so it shows the same:
    /// <c>Handle("/api/stats", new RuntimeStatsHandler(server.Source, options))</c>. The server disposes it; it is in
    /// service (constant labels fixed) once the server starts.
    /// </summary>
    public StatsSource Source { get; }

    /// <summary>
    /// Mounts traces on demand at <paramref name="pattern"/>: each request runs an EventPipe session on the process's own
    /// diagnostic port and streams its raw nettrace (<c>application/octet-stream</c>, a <c>.nettrace</c> file name) as it
    /// comes, for <c>?seconds=N</c> (default 5, at most 60), with <c>?profile=cpu|gc|contention|exceptions</c> (default
    /// <c>cpu</c>: the sample profiler and the runtime's default keywords, with rundown so methods resolve) or
    /// <c>?providers=</c> in dotnet-trace's syntax. One trace or profile (<see cref="HandleProfiles(string)"/>) at a time
    /// per process (another gets 409); bad options get 400; no port gets 503. The session stops when the time is up, when
    /// the client goes away and when the server stops. Off unless mounted; see docs/tracing.md.
    /// </summary>
    /// <remarks>
    /// A trace shows the process's code and its activity (method names, stacks, exception messages, whatever the app's
    /// own event sources write): on an address other than loopback the server refuses to start unless credentials are
    /// set (<see cref="RequireBearerToken"/> or <see cref="RequireBasicAuth"/>); see docs/security.md.
    /// </remarks>
    /// <param name="pattern">An absolute path, for example <c>/debug/trace</c>.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentException">The pattern is not an absolute path.</exception>
    /// <exception cref="InvalidOperationException">The pattern is mounted already, or the server has started.</exception>
    /// <exception cref="ObjectDisposedException">The server has been disposed.</exception>
    public StatsServer HandleTrace(string pattern)
    {
        Mount(pattern, () => new TraceHandler(_stopping.Token), owned: true, TraceHandler.RouteTimeout);
        Interlocked.CompareExchange(ref _diagnosticExposure, $"The trace route would let anyone who reaches '{_address}' trace this process", null);
        return this;
    }

    /// <summary>
    /// Mounts profiles on demand under <paramref name="pattern"/>, like Go's <c>net/http/pprof</c>: an index page at the
    /// pattern listing each with its commands; <c>{pattern}/profile?seconds=N</c>, a CPU profile (default 10 s, at most
    /// 60) in the pprof format (<c>go tool pprof</c> reads the URL as it is; <c>?format=json</c> for the dashboard's
    /// flame graph); <c>{pattern}/threads</c>, every managed thread's stack as text (or <c>?format=json</c>);
    /// <c>{pattern}/heap</c>, the live objects by type as pprof (<c>?debug=1</c> text, <c>?format=json</c>), after a
    /// full blocking collection. Each request runs a session on the process's own diagnostic port; nothing runs until
    /// one is asked for. Off unless mounted; see docs/profiling.md.
    /// </summary>
    /// <remarks>
    /// <para>One trace or profile at a time per process, across every server and route, <see cref="HandleTrace"/>'s
    /// included (another gets 409); bad options get 400; a process without a diagnostic port gets 503 naming the
    /// setting that turned it off. A collection stops when its time is up, when the client goes away and when the
    /// server stops.</para>
    /// <para>Profiles show the process's code (method and type names, thread names, where the time and memory go): on an
    /// address other than loopback the server refuses to start unless credentials are set
    /// (<see cref="RequireBearerToken"/> or <see cref="RequireBasicAuth"/>); see docs/security.md.</para>
    /// </remarks>
    /// <param name="pattern">An absolute path, for example <c>/debug/pprof</c>.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pattern"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="pattern"/> is not an absolute path.</exception>
    /// <exception cref="InvalidOperationException">The pattern or one of its routes is mounted already, or the server has started.</exception>
    /// <exception cref="ObjectDisposedException">The server has been disposed.</exception>
    public StatsServer HandleProfiles(string pattern) => HandleProfiles(pattern, ProfileCollectors.Runtime);

    /// <summary>Mounts the profiles with collectors of the caller's choosing: a test's own, which need no real session.</summary>
    internal StatsServer HandleProfiles(string pattern, ProfileCollectors collectors)
    {
        RouteTable.Validate(pattern);
        var profiles = new ProfilesHandler(pattern, collectors, _stopping.Token);
        lock (_lock)
        {
            ThrowIfConfigurationLocked($"mount '{pattern}'");
            _routes.AddGroup(profiles.Routes(), ProfilesHandler.RouteTimeout);
            _diagnosticExposure ??= $"The profile routes under '{pattern}' would let anyone who reaches '{_address}' profile this process and list its heap by type";
        }

        return this;
    }

    /// <summary>Forwards to <see cref="StatsSource.AddConstantLabel"/>: a label every Prometheus sample carries.</summary>
    /// <param name="name">A label name (<c>[a-zA-Z_][a-zA-Z0-9_]*</c>), not starting with <c>__</c>, and not <c>le</c> or <c>quantile</c>.</param>
    /// <param name="value">Any text; it is escaped as Prometheus requires.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException">The name is not a valid label name, is reserved, or is set already.</exception>
    /// <exception cref="InvalidOperationException">The source is in service already (the server has started).</exception>
    /// <exception cref="ObjectDisposedException">The server, and so its source, has been disposed.</exception>
    public StatsServer AddConstantLabel(string name, string value) => Forward(Source.AddConstantLabel(name, value));

    /// <summary>Forwards to <see cref="StatsSource.ExportMeters"/>: the app's own meters in every output.</summary>
    /// <param name="meterNames">Meter names: exact (<c>"MyApp"</c>), or a prefix ending in <c>*</c> (<c>"MyApp.*"</c>).</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="meterNames"/> or one of its names is null.</exception>
    /// <exception cref="ArgumentException">No name is given, a name is empty, or <c>*</c> appears other than at the end.</exception>
    /// <exception cref="ObjectDisposedException">The server, and so its source, has been disposed.</exception>
    public StatsServer ExportMeters(params string[] meterNames) => Forward(Source.ExportMeters(meterNames));

    /// <summary>Forwards to <see cref="StatsSource.EnableGcEvents()"/>: every collection's pause, generation and reason (see there for its cost).</summary>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ObjectDisposedException">The server, and so its source, has been disposed.</exception>
    public StatsServer EnableGcEvents() => Forward(Source.EnableGcEvents());

    /// <summary>Forwards to <see cref="StatsSource.MaxSeriesPerInstrument"/>: the most series kept per exported instrument.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not between 1 and 1,000,000.</exception>
    public int MaxSeriesPerInstrument
    {
        get => Source.MaxSeriesPerInstrument;
        set => Source.MaxSeriesPerInstrument = value;
    }

    /// <summary>Forwards to <see cref="StatsSource.Publish(string, Func{long})"/>: an integer read at each request, like Go's <c>expvar.Publish</c>.</summary>
    /// <param name="name">A Prometheus-safe name (<c>[a-zA-Z_][a-zA-Z0-9_]*</c>), such as <c>queue_depth</c>.</param>
    /// <param name="value">Returns the current value; called on a request's thread, so it must be thread-safe and quick.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not Prometheus-safe, or starts with a built-in prefix.</exception>
    /// <exception cref="InvalidOperationException">A value of that name is already published.</exception>
    /// <exception cref="ObjectDisposedException">The server, and so its source, has been disposed.</exception>
    public StatsServer Publish(string name, Func<long> value) => Forward(Source.Publish(name, value));

    /// <summary>Forwards to <see cref="StatsSource.Publish(string, Func{double})"/>: a floating-point number.</summary>
    /// <param name="name">A Prometheus-safe name, such as <c>hit_ratio</c>.</param>
    /// <param name="value">Returns the current value; called on a request's thread.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not Prometheus-safe, or starts with a built-in prefix.</exception>
    /// <exception cref="InvalidOperationException">A value of that name is already published.</exception>
    /// <exception cref="ObjectDisposedException">The server, and so its source, has been disposed.</exception>
    public StatsServer Publish(string name, Func<double> value) => Forward(Source.Publish(name, value));

    /// <summary>Forwards to <see cref="StatsSource.Publish(string, Func{bool})"/>: a boolean.</summary>
    /// <param name="name">A Prometheus-safe name, such as <c>ready</c>.</param>
    /// <param name="value">Returns the current value; called on a request's thread.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not Prometheus-safe, or starts with a built-in prefix.</exception>
    /// <exception cref="InvalidOperationException">A value of that name is already published.</exception>
    /// <exception cref="ObjectDisposedException">The server, and so its source, has been disposed.</exception>
    public StatsServer Publish(string name, Func<bool> value) => Forward(Source.Publish(name, value));

    /// <summary>Forwards to <see cref="StatsSource.Publish(string, Func{string})"/>: a string (an info family in Prometheus).</summary>
    /// <param name="name">A Prometheus-safe name, such as <c>build_commit</c>.</param>
    /// <param name="value">Returns the current value (null is written as <c>null</c>); called on a request's thread.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not Prometheus-safe, or starts with a built-in prefix.</exception>
    /// <exception cref="InvalidOperationException">A value of that name is already published.</exception>
    /// <exception cref="ObjectDisposedException">The server, and so its source, has been disposed.</exception>
    public StatsServer Publish(string name, Func<string?> value) => Forward(Source.Publish(name, value));

    /// <summary>
    /// Sets the callback that receives every error the server handles by itself: a handler that threw (wrapped in a
    /// <see cref="StatsHandlerException"/> naming the method and path) or a failure of the accept loop. Use it to log.
    /// </summary>
    /// <param name="callback">Called on a thread-pool thread; an exception it throws is traced and otherwise ignored.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    public StatsServer OnError(Action<Exception> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        Volatile.Write(ref _onError, callback);
        return this;
    }

    /// <summary>
    /// Requires <c>Authorization: Bearer TOKEN</c> on every request; others get 401 with <c>WWW-Authenticate: Bearer</c>.
    /// The token is kept only as a SHA-256 digest, compared in constant time, and never logged or printed.
    /// </summary>
    /// <param name="token">The secret token: printable ASCII without spaces.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="token"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="token"/> is empty or has spaces or control characters.</exception>
    /// <exception cref="InvalidOperationException">The server has started.</exception>
    public StatsServer RequireBearerToken(string token)
    {
        lock (_lock)
        {
            ThrowIfConfigurationLocked("require a bearer token");
            _access.AddBearerToken(token);
        }

        return this;
    }

    /// <summary>
    /// Requires HTTP basic authentication with <paramref name="user"/> and <paramref name="password"/>; others get 401
    /// with <c>WWW-Authenticate: Basic</c>. Use it over loopback or behind TLS: basic auth sends the password in clear.
    /// Kept only as a SHA-256 digest, compared in constant time, never logged or printed.
    /// </summary>
    /// <param name="user">The user name, without ':'.</param>
    /// <param name="password">The password.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="user"/> or <paramref name="password"/> is null.</exception>
    /// <exception cref="ArgumentException">The user name is empty or has ':'; or either has control characters.</exception>
    /// <exception cref="InvalidOperationException">The server has started.</exception>
    public StatsServer RequireBasicAuth(string user, string password)
    {
        lock (_lock)
        {
            ThrowIfConfigurationLocked("require basic auth");
            _access.AddBasicCredentials(user, password);
        }

        return this;
    }

    /// <summary>
    /// Adds a check every request must pass, after any credentials (for example a client-address allow list);
    /// a request it rejects gets 403. A predicate that throws gives 500 and is reported to <see cref="OnError(Action{Exception})"/>.
    /// </summary>
    /// <param name="predicate">Returns true to let the request through. Called concurrently.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="predicate"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The server has started.</exception>
    public StatsServer Authorize(Func<HttpListenerRequest, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        lock (_lock)
        {
            ThrowIfConfigurationLocked("add an authorization predicate");
            _access.AddPredicate(predicate);
        }

        return this;
    }

    /// <summary>
    /// Answers only requests whose Host header names one of <paramref name="hosts"/> (others get 403): the DNS-rebinding
    /// guard for a server on all interfaces. A loopback server already answers only loopback names.
    /// </summary>
    /// <param name="hosts">Host names or IP addresses, without port, such as <c>stats.example.com</c>.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="hosts"/> is null.</exception>
    /// <exception cref="ArgumentException">A host is empty or not a valid host name or address.</exception>
    /// <exception cref="InvalidOperationException">The server has started.</exception>
    public StatsServer AllowHosts(params string[] hosts)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        lock (_lock)
        {
            ThrowIfConfigurationLocked("set allowed hosts");
            _access.AllowHosts(hosts);
        }

        return this;
    }

    /// <summary>
    /// Serves <paramref name="patterns"/> without credentials or <see cref="Authorize"/> predicates, so a liveness probe
    /// (<c>/healthz</c>) stays open on a server that requires a token. The network guards (loopback clients only on a
    /// loopback server, allowed hosts) and the limits still apply.
    /// </summary>
    /// <param name="patterns">Patterns mounted already, such as <c>/healthz</c>.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="patterns"/> or one of them is null.</exception>
    /// <exception cref="ArgumentException">A pattern is not an absolute path.</exception>
    /// <exception cref="InvalidOperationException">Nothing is mounted on a pattern, or the server has started.</exception>
    public StatsServer AllowAnonymous(params string[] patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        lock (_lock)
        {
            ThrowIfConfigurationLocked("allow anonymous access");
            foreach (string pattern in patterns)
            {
                RouteTable.Validate(pattern);
                _routes.AllowAnonymous(pattern);
            }
        }

        return this;
    }

    /// <summary>Describes the server's address and protection, never its secrets.</summary>
    /// <returns>For example <c>StatsServer 127.0.0.1:50123 (bearer token; loopback hosts only)</c>, with the real port once started.</returns>
    public override string ToString() => $"StatsServer {_address.WithPort(Volatile.Read(ref _port))} ({_access.Describe()})";

    /// <summary>Starts listening; returns once the server accepts connections.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes once the server is listening.</returns>
    /// <exception cref="HttpListenerException">
    /// The port is taken (the message names it), or access was denied (on Windows the message gives the
    /// <c>netsh http add urlacl</c> fix). <see cref="HttpListenerException.ErrorCode"/> is the listener's own.
    /// </exception>
    /// <exception cref="InvalidOperationException">The server has already started, or was stopped.</exception>
    /// <exception cref="ObjectDisposedException">The server has been disposed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_state == ServerState.Disposed, this);
            if (_state != ServerState.New)
            {
                throw new InvalidOperationException(_state == ServerState.Stopped || _state == ServerState.Stopping
                    ? $"The server on '{_address}' has been stopped and cannot start again. Create a new StatsServer to serve again."
                    : $"The server on '{_address}' has already started.");
            }

            if (_diagnosticExposure is { } exposure && !_address.IsLoopback && !_access.RequiresCredentials)
            {
                throw new InvalidOperationException(
                    exposure + ": set credentials "
                    + "(RequireBearerToken or RequireBasicAuth) or listen on loopback ('127.0.0.1:PORT').");
            }

            (HttpListener listener, int port) = new ListenerBinder(_address).Bind();
            Limits.Freeze();
            Source.MarkInService();
            _listener = listener;
            Volatile.Write(ref _port, port);
            _dispatcher = new RequestDispatcher(listener, _routes, _access, Limits, Report);
            _state = ServerState.Running;
            _dispatcher.Start();
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Starts the server if it has not started, then completes when it stops: through <see cref="StopAsync"/>, disposal,
    /// <paramref name="cancellationToken"/>, or a stop signal (Ctrl+C, <c>docker stop</c>, systemd), each of which stops
    /// the server gracefully (not an error).
    /// </summary>
    /// <remarks>
    /// <para>While it runs, SIGINT (Ctrl+C), SIGTERM and SIGQUIT (on Windows: Ctrl+C, Ctrl+Break, closing the console) start a
    /// graceful <see cref="StopAsync"/> instead of ending the process: requests in flight finish, then this method returns
    /// and the app's <c>Main</c> carries on to its end. A second signal during the drain takes the default action and ends
    /// the process at once. So <c>await server.ListenAndServeAsync();</c> needs no <c>Console.CancelKeyPress</c> handler.
    /// The registration ends when the method returns; <see cref="StartAsync"/> registers nothing, so a Generic Host (which
    /// handles the signals itself) or an app with its own handlers keeps them.</para>
    /// </remarks>
    /// <param name="cancellationToken">Stops the server when cancelled.</param>
    /// <returns>A task that completes when the server has stopped.</returns>
    /// <exception cref="HttpListenerException">The server could not start; see <see cref="StartAsync"/>.</exception>
    /// <exception cref="InvalidOperationException">The server was stopped before this call.</exception>
    /// <exception cref="ObjectDisposedException">The server has been disposed.</exception>
    public async Task ListenAndServeAsync(CancellationToken cancellationToken = default)
    {
        bool start;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_state == ServerState.Disposed, this);
            start = _state == ServerState.New;
        }

        if (start)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            await StartAsync(cancellationToken).ConfigureAwait(false);
        }

        using CancellationTokenRegistration registration = cancellationToken.Register(
            static state => _ = ((StatsServer)state!).StopAsync(), this);
        using StopSignals signals = StopSignals.Register(() => _ = StopAsync());
        await _stopped.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Stops the server: from the first moment every new request gets 503 and its connection is closed, requests in
    /// flight may finish for up to <see cref="StatsServerLimits.DrainTimeout"/> (or until <paramref name="cancellationToken"/>
    /// is cancelled); those still running then get 503 "server is stopping", and the listener is closed, so the port is
    /// free when the task completes. The task always completes, whatever the listener throws (that goes to
    /// <see cref="OnError"/>), within about the drain timeout and one second. Calling it again returns the same task;
    /// stopping a server that never started just marks it stopped.
    /// </summary>
    /// <param name="cancellationToken">Cuts the drain short; the stop itself always completes.</param>
    /// <returns>A task that completes when the server has stopped; it never faults.</returns>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_stopTask is not null)
            {
                return _stopTask;
            }

            if (_state is ServerState.New or ServerState.Disposed)
            {
                _state = _state == ServerState.New ? ServerState.Stopped : _state;
                _stopped.TrySetResult();
                _stopTask = Task.CompletedTask;
                return _stopTask;
            }

            _state = ServerState.Stopping;
            RequestDispatcher dispatcher = _dispatcher!;
            HttpListener listener = _listener!;
            dispatcher.RefuseNewRequests();
            _stopping.Cancel();

            // Off the lock: closing the listener runs the runtime's callbacks, which must not find the lock held.
            _stopTask = Task.Run(() => StopCoreAsync(dispatcher, listener, cancellationToken), CancellationToken.None);
            return _stopTask;
        }
    }

    /// <summary>Stops the server gracefully (see <see cref="StopAsync"/>) and releases it. Idempotent.</summary>
    /// <returns>A task that completes when the server is released.</returns>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        Release();
    }

    /// <summary>Stops the server at once, aborting in-flight requests, and releases it. Idempotent.</summary>
    public void Dispose()
    {
        RequestDispatcher? dispatcher;
        HttpListener? listener;
        lock (_lock)
        {
            if (_state == ServerState.Disposed)
            {
                return;
            }

            bool started = _state is ServerState.Running or ServerState.Stopping;
            dispatcher = started ? _dispatcher : null;
            listener = started ? _listener : null;
            _stopTask ??= Task.CompletedTask;
        }

        _stopping.Cancel();
        if (dispatcher is not null && listener is not null)
        {
            dispatcher.CancelInFlight();
            ReportCloseFailure(ListenerBinder.Close(listener, CloseListener));
        }

        _stopped.TrySetResult();
        Release();
    }

    private async Task StopCoreAsync(RequestDispatcher dispatcher, HttpListener listener, CancellationToken cancellationToken)
    {
        try
        {
            if (!await CompletesWithinAsync(dispatcher.Drained, Limits.DrainTimeout, cancellationToken).ConfigureAwait(false))
            {
                dispatcher.CancelInFlight();
                await CompletesWithinAsync(dispatcher.Drained, CancelledRequestGrace, CancellationToken.None).ConfigureAwait(false);
            }

            dispatcher.CancelInFlight();
            ReportCloseFailure(ListenerBinder.Close(listener, CloseListener));
            await CompletesWithinAsync(dispatcher.AcceptLoop, AcceptLoopGrace, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Nothing above should throw; if it does, the stop still completes and the host still exits.
            Report(e);
        }
        finally
        {
            lock (_lock)
            {
                if (_state == ServerState.Stopping)
                {
                    _state = ServerState.Stopped;
                }
            }

            _stopped.TrySetResult();
        }
    }

    private static async Task<bool> CompletesWithinAsync(Task task, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            return false;
        }
    }

    private void ReportCloseFailure(Exception? failure)
    {
        if (failure is not null)
        {
            Report(new InvalidOperationException(
                $"HttpListener threw while the server on '{_address}' closed it; the server has stopped all the same. {failure.Message}",
                failure));
        }
    }

    private void Release()
    {
        RequestDispatcher? dispatcher;
        lock (_lock)
        {
            if (_state == ServerState.Disposed)
            {
                return;
            }

            _state = ServerState.Disposed;
            dispatcher = _dispatcher;
        }

        _routes.DisposeOwned();
        Source.Dispose();
        dispatcher?.Dispose();
    }

    private void Report(Exception e)
    {
        Action<Exception>? callback = Volatile.Read(ref _onError);
        if (callback is null)
        {
            return;
        }

        try
        {
            callback(e);
        }
        catch (Exception callbackFailure)
        {
            // The error callback itself failed; it has nowhere to report to, so leave a trace and carry on.
            Trace.TraceError($"StatsServer error callback threw: {callbackFailure}");
        }
    }

    /// <summary>Mounts what <paramref name="create"/> makes on <paramref name="pattern"/>, before the start only.</summary>
    private StatsServer Mount(string pattern, Func<IStatsHandler> create, bool owned, TimeSpan? timeout = null)
    {
        RouteTable.Validate(pattern);
        lock (_lock)
        {
            ThrowIfConfigurationLocked($"mount '{pattern}'");
            _routes.Add(pattern, create, owned, timeout);
        }

        return this;
    }

    /// <summary>Returns this server after a forward: the source has applied its own rules.</summary>
    private StatsServer Forward(StatsSource _) => this;

    private void ThrowIfConfigurationLocked(string what)
    {
        ObjectDisposedException.ThrowIf(_state == ServerState.Disposed, this);
        if (_state != ServerState.New)
        {
            throw new InvalidOperationException($"Cannot {what}: the server has already started. Configure it before StartAsync.");
        }
    }

    private enum ServerState
    {
        New,
        Running,
        Stopping,
        Stopped,
        Disposed,
    }

    private sealed class FuncHandler(StatsHandlerFunc func) : IStatsHandler
    {
        public Task ServeHttpAsync(HttpListenerContext context, CancellationToken cancellationToken) =>
            func(context, cancellationToken);
    }
}
