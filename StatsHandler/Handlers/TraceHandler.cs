using System.Buffers;
using System.Globalization;
using System.Net;

namespace StatsHandler;

/// <summary>
/// Runs an EventPipe session on the process's own diagnostic port for <c>?seconds=N</c> (default 5, at most 60) and
/// streams its raw nettrace to the client as it comes: a named <c>?profile=</c> (<c>cpu</c>, <c>gc</c>,
/// <c>contention</c>, <c>exceptions</c>) or <c>?providers=</c> in dotnet-trace's syntax. One trace or profile at
/// a time per process (<see cref="DiagnosticGate"/>); the session stops when the time is up, when the client goes away
/// and when the server stops.
/// </summary>
/// <remarks>
/// The session is stopped from a thread of its own (never the one reading its stream), and the stream is read to its
/// end after the stop, so the runtime can write its last buffers and rundown without blocking; the read is bounded by
/// <see cref="DrainBound"/>, after which the stream is closed, which ends the session for certain.
/// </remarks>
internal sealed class TraceHandler(CancellationToken serverStopping) : IStatsHandler
{
    /// <summary>The trace's length when <c>?seconds=</c> is not given.</summary>
    public const int DefaultSeconds = 5;

    /// <summary>The longest trace a request may ask for.</summary>
    public const int MaxSeconds = DiagnosticRequest.MaxSeconds;

    /// <summary>How long the stream may go on after the stop (the rundown at most): then it is closed.</summary>
    public static readonly TimeSpan DrainBound = EventPipeSession.DrainBound;

    /// <summary>The request timeout the route gets: the longest trace and its drain, beyond the server's default.</summary>
    public static readonly TimeSpan RouteTimeout = TimeSpan.FromSeconds(MaxSeconds) + DrainBound + TimeSpan.FromSeconds(10);

    /// <summary>How long connecting to the diagnostic port and starting a session may take.</summary>
    public static readonly TimeSpan ConnectBound = TimeSpan.FromSeconds(5);

    /// <inheritdoc />
    public async Task ServeHttpAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        if (!TryParse(context.Request, out int seconds, out EventPipeSessionOptions? options, out string? error))
        {
            await StatsResponse.WriteErrorAsync(context, 400, error, cancellationToken).ConfigureAwait(false);
            return;
        }

        // One trace or profile at a time in the process, whichever server or route asks (DiagnosticGate says why).
        DiagnosticGate.Lease? lease = DiagnosticGate.TryEnter("a trace", out string? busy);
        if (lease is null)
        {
            await StatsResponse.WriteErrorAsync(context, 409, busy!, cancellationToken).ConfigureAwait(false);
            return;
        }

        bool clientGone;
        try
        {
            EventPipeSession session;
            try
            {
                session = DiagnosticPort.Unavailable() is { } unavailable
                    ? throw new IOException(unavailable)
                    : EventPipeSession.Start(options, ConnectBound);
            }
            catch (IOException e)
            {
                await StatsResponse.WriteErrorAsync(context, 503, $"cannot trace: {e.Message}", cancellationToken).ConfigureAwait(false);
                return;
            }

            using (session)
            {
                clientGone = await StreamAsync(context, session, TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            lease.Dispose();
        }

        // Only now, with the session gone, does the client see the end: its next trace finds the process free.
        if (clientGone)
        {
            context.Response.Abort();
        }
        else
        {
            context.Response.Close();
        }
    }

    /// <summary>Reads the request's options; false with the 400's message when one is bad.</summary>
    internal static bool TryParse(HttpListenerRequest request, out int seconds, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EventPipeSessionOptions? options, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        options = null;
        if (!DiagnosticRequest.TryParseSeconds(request, DefaultSeconds, out seconds, out error))
        {
            return false;
        }

        string? profile = request.QueryString["profile"];
        string? providers = request.QueryString["providers"];
        if (profile is not null && providers is not null)
        {
            error = "give profile= or providers=, not both";
            return false;
        }

        if (providers is not null)
        {
            try
            {
                options = new EventPipeSessionOptions(EventPipeProvider.ParseList(providers), EventPipeSessionOptions.DefaultRundown, StackWalk: true);
                return true;
            }
            catch (FormatException e)
            {
                error = $"providers='{providers}': {e.Message}";
                return false;
            }
        }

        options = TraceProfiles.Find(profile ?? "cpu");
        if (options is null)
        {
            error = $"profile='{profile}' is not one of {string.Join(", ", TraceProfiles.Names)}; or give providers= in dotnet-trace's syntax";
            return false;
        }

        return true;
    }

    /// <summary>Streams the session to the client until it ends; returns true when the client went away.</summary>
    private async Task<bool> StreamAsync(HttpListenerContext context, EventPipeSession session, TimeSpan length, CancellationToken requestToken)
    {
        HttpListenerResponse response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "application/octet-stream";
        response.SendChunked = true;
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        response.Headers["Content-Disposition"] = $"attachment; filename=\"trace-{Environment.ProcessId}-{stamp}.nettrace\"";

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(requestToken, serverStopping);
        using var drain = new CancellationTokenSource();
        stop.CancelAfter(length);

        // The stop runs on the thread pool, not on this reader: the reader keeps draining while the runtime finishes.
        using CancellationTokenRegistration stopping = stop.Token.Register(() => Task.Run(() =>
        {
            session.Stop();
            try
            {
                drain.CancelAfter(DrainBound);
            }
            catch (ObjectDisposedException)
            {
                // The stream had already ended and the trace is over.
            }
        }));

        Task<bool> watch = DiagnosticRequest.WatchClientAsync(context.Request, stop);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        bool clientGone = false;
        try
        {
            Stream output = response.OutputStream;
            while (true)
            {
                int read;
                try
                {
                    read = await session.Stream.ReadAsync(buffer, drain.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
                {
                    break;
                }

                if (read == 0)
                {
                    break;
                }

                if (clientGone)
                {
                    continue;
                }

                try
                {
                    await output.WriteAsync(buffer.AsMemory(0, read), CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
                {
                    // The client went away: stop the session, and keep reading (discarding) until the runtime ends it.
                    clientGone = true;
                    await stop.CancelAsync().ConfigureAwait(false);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        clientGone |= !DiagnosticRequest.IsConnected(context.Request);
        await stop.CancelAsync().ConfigureAwait(false);
        clientGone |= await watch.ConfigureAwait(false);
        return clientGone;
    }
}
