using System.Net;

namespace StatsHandler;

/// <summary>
/// The request pipeline of one started server: the accept loop, the screening every request passes before a handler
/// runs, deadlines and timeouts, the error answers, and the in-flight count a stop drains.
/// </summary>
internal sealed class RequestDispatcher : IDisposable
{
    private readonly HttpListener _listener;
    private readonly RouteTable _routes;
    private readonly AccessControl _access;
    private readonly StatsServerLimits _limits;
    private readonly Action<Exception> _report;
    private readonly RequestScope _scope;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SmallPool<CancellationTokenSource> _deadlines = new(64);
    private Task _acceptLoop = Task.CompletedTask;
    private volatile bool _refusing;
    private volatile bool _released;
    private int _inFlight;

    public RequestDispatcher(HttpListener listener, RouteTable routes, AccessControl access, StatsServerLimits limits, Action<Exception> report)
    {
        _listener = listener;
        _routes = routes;
        _access = access;
        _limits = limits;
        _report = report;
        _scope = new RequestScope(limits.MaxResponseBytes);
    }

    /// <summary>The accept loop; it ends once the listener is closed.</summary>
    public Task AcceptLoop => _acceptLoop;

    /// <summary>Completes once no request is in flight after <see cref="RefuseNewRequests"/>.</summary>
    public Task Drained => _drained.Task;

    /// <summary>Starts accepting requests.</summary>
    public void Start() => _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);

    /// <summary>From now on every new request gets 503 "server is stopping" and its connection is closed.</summary>
    public void RefuseNewRequests()
    {
        _refusing = true;
        if (Volatile.Read(ref _inFlight) == 0)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>Cancels the token of every request still running: each answers 503 "server is stopping".</summary>
    public void CancelInFlight()
    {
        _refusing = true;
        _shutdown.Cancel();
    }

    /// <summary>Disposes the pooled deadlines; requests finishing later dispose their own.</summary>
    public void Dispose()
    {
        _released = true;
        _deadlines.Drain(static deadline => deadline.Dispose());

        // _shutdown is not disposed: a request aborted by the stop may still read its token, and a
        // CancellationTokenSource without a timer holds nothing that needs releasing.
    }

    private async Task AcceptLoopAsync()
    {
        int consecutiveFailures = 0;
        while (!_shutdown.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
                consecutiveFailures = 0;
            }
            catch (Exception) when (_shutdown.IsCancellationRequested || _refusing || !_listener.IsListening)
            {
                break;
            }
            catch (Exception e) when (e is HttpListenerException or IOException or InvalidOperationException)
            {
                _report(e);
                if (++consecutiveFailures >= 10)
                {
                    // A listener failing on every accept would spin a core; back off a little.
                    await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None).ConfigureAwait(false);
                }

                continue;
            }

            Interlocked.Increment(ref _inFlight);
            _ = Task.Run(() => ServeAsync(context), CancellationToken.None);
        }
    }

    private async Task ServeAsync(HttpListenerContext context)
    {
        HttpListenerRequest request = context.Request;
        HttpListenerResponse response = context.Response;
        if (AnsweredByListener(request))
        {
            // The listener has sent its own answer and closed this response: touching it would only throw.
            Leave();
            return;
        }

        string method = request.HttpMethod ?? string.Empty;
        string path = request.Url?.AbsolutePath ?? "/";
        CancellationTokenSource? deadline = null;
        CancellationTokenRegistration shutdownLink = default;
        Task? work = null;
        try
        {
            response.Headers["Cache-Control"] = "no-store";
            response.Headers["X-Content-Type-Options"] = "nosniff";
            (int Status, string Message)? refusal = Screen(request, response, method, path, out RouteTable.Route? route);
            if (refusal is { } refused)
            {
                await StatsResponse.WriteErrorAsync(context, refused.Status, refused.Message).ConfigureAwait(false);
                return;
            }

            deadline = _deadlines.TryRent() ?? new CancellationTokenSource();
            RequestScope.Current = _scope;
            work = route!.Handler.ServeHttpAsync(context, deadline.Token);
            if (!work.IsCompleted)
            {
                // Only a handler still running needs a timer and a link to the shutdown; most finish synchronously.
                deadline.CancelAfter(_limits.RequestTimeout);
                shutdownLink = _shutdown.Token.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), deadline);
                await work.WaitAsync(deadline.Token).ConfigureAwait(false);
            }

            await work.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            // The drain timed out with this request still running: a stop is not the handler's fault.
            Observe(work);
            response.KeepAlive = false;
            await TryWriteErrorAsync(context, 503, "server is stopping").ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline is { IsCancellationRequested: true })
        {
            _report(new StatsHandlerException(method, path, new TimeoutException(
                $"The handler took longer than the request timeout of {_limits.RequestTimeout} (StatsServer.Limits.RequestTimeout); its token was cancelled.")));
            Observe(work);
            await TryWriteErrorAsync(context, 503, "request timed out").ConfigureAwait(false);
        }
        catch (Exception e) when (_shutdown.IsCancellationRequested
            && e is ObjectDisposedException or HttpListenerException or IOException or InvalidOperationException)
        {
            // The stop closed the listener, and with it this request's connection, while it was being served: the
            // listener disposes the response or sends its headers itself (then a write says it was "submitted").
            Observe(work);
            AbortQuietly(response);
        }
        catch (Exception e)
        {
            _report(new StatsHandlerException(method, path, e));
            Observe(work);
            await TryWriteErrorAsync(context, 500, "internal server error").ConfigureAwait(false);
        }
        finally
        {
            RequestScope.Current = null;
            shutdownLink.Dispose();
            ReturnDeadline(deadline);
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                // The client has gone or the listener closed under us: nothing left to send.
                AbortQuietly(response);
            }

            Leave();
        }
    }

    /// <summary>
    /// The checks every request passes before its handler runs, cheapest first: the network ones before routing, then
    /// the route, method and credentials. Returns the status and message to refuse it with, or null and the route.
    /// </summary>
    private (int Status, string Message)? Screen(
        HttpListenerRequest request, HttpListenerResponse response, string method, string path, out RouteTable.Route? route)
    {
        route = null;
        if (_refusing)
        {
            response.KeepAlive = false;
            return (503, "server is stopping");
        }

        if (!_access.IsClientAllowed(request.RemoteEndPoint))
        {
            response.KeepAlive = false;
            return (403, "this server answers only clients on this machine (loopback)");
        }

        if (!_access.IsHostAllowed(request))
        {
            response.KeepAlive = false;
            return (403, "host not allowed");
        }

        if ((request.RawUrl?.Length ?? 0) > _limits.MaxUrlLength)
        {
            response.KeepAlive = false;
            return (414, $"request target longer than {_limits.MaxUrlLength} characters");
        }

        if (request.HasEntityBody)
        {
            // The body is never read: close the connection rather than leave it to be parsed as the next request.
            response.KeepAlive = false;
            return (413, "request bodies are not accepted");
        }

        if (Volatile.Read(ref _inFlight) > _limits.MaxConcurrentRequests)
        {
            response.Headers["Retry-After"] = "1";
            return (503, "too many requests in flight; retry shortly");
        }

        bool found = _routes.TryMatch(path, out RouteTable.Route matched);
        if (!(found && matched.Anonymous))
        {
            // Credentials come before the 404 so that an unauthenticated client cannot map the routes.
            if (!_access.HasValidCredentials(request))
            {
                foreach (string challenge in _access.Challenges)
                {
                    response.Headers.Add("WWW-Authenticate", challenge);
                }

                return (401, "authentication required");
            }

            if (!_access.IsAuthorized(request))
            {
                return (403, "forbidden");
            }
        }

        if (!found)
        {
            return (404, $"no handler for path {Truncate(path)}");
        }

        if (method is not ("GET" or "HEAD"))
        {
            response.Headers["Allow"] = "GET, HEAD";
            return (405, $"method {Truncate(method)} is not allowed; use GET or HEAD");
        }

        route = matched;
        return null;
    }

    /// <summary>
    /// True for the requests the managed listener (Linux, macOS) answers by itself yet still hands over, with the
    /// response already closed: POST or PUT without Content-Length or chunked body (411), and an HTTP/1.1 request with
    /// a Transfer-Encoding other than chunked (501). A client's protocol mistake, not a server error.
    /// </summary>
    internal static bool AnsweredByListener(HttpListenerRequest request)
    {
        if (OperatingSystem.IsWindows())
        {
            return false;
        }

        // Cheapest first: a GET without Transfer-Encoding, nearly every request, costs one header lookup.
        string? transferEncoding = request.Headers["Transfer-Encoding"];
        if (transferEncoding is not null && request.ProtocolVersion >= HttpVersion.Version11)
        {
            return !string.Equals(transferEncoding, "chunked", StringComparison.OrdinalIgnoreCase);
        }

        string? method = request.HttpMethod;
        return (string.Equals(method, "POST", StringComparison.OrdinalIgnoreCase) || string.Equals(method, "PUT", StringComparison.OrdinalIgnoreCase))
            && request.Headers["Content-Length"] is null;
    }

    private void Leave()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && _refusing)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>
    /// Keeps a request's token source for the next request: a new one per request would cost an allocation, and a
    /// timer when the handler runs long enough to need one.
    /// </summary>
    private void ReturnDeadline(CancellationTokenSource? deadline)
    {
        if (deadline is null)
        {
            return;
        }

        if (!(deadline.TryReset() && !_released && _deadlines.TryReturn(deadline)))
        {
            deadline.Dispose();
        }
    }

    private static void Observe(Task? work)
    {
        if (work is null || work.IsCompleted)
        {
            _ = work?.Exception;
            return;
        }

        // A handler abandoned after its timeout may still fail later; observe that so it never surfaces as an
        // unobserved task exception. The timeout itself has been reported already.
        _ = work.ContinueWith(
            static t => _ = t.Exception,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private static async Task TryWriteErrorAsync(HttpListenerContext context, int status, string message)
    {
        try
        {
            // Throws InvalidOperationException when the handler already sent the headers.
            context.Response.StatusCode = status;
            await StatsResponse.WriteErrorAsync(context, status, message).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or HttpListenerException or IOException or ObjectDisposedException)
        {
            AbortQuietly(context.Response);
        }
    }

    private static void AbortQuietly(HttpListenerResponse response)
    {
        try
        {
            response.Abort();
        }
        catch (Exception e) when (e is ObjectDisposedException or IOException or HttpListenerException or InvalidOperationException)
        {
            // Already closed by the listener: the connection is gone either way.
        }
    }

    private static string Truncate(string text) => text.Length <= 200 ? text : string.Concat(text.AsSpan(0, 200), "...");
}
