using System.Net;

namespace StatsHandler;

/// <summary>
/// Turns a <see cref="ListenAddress"/> into a started <see cref="HttpListener"/> (prefixes, port-0 retries, start errors
/// that name the port and the fix) and closes it again without ever throwing.
/// </summary>
internal sealed class ListenerBinder(ListenAddress address)
{
    private const int MaxStartAttempts = 10;

    /// <summary>Starts a listener on the address; for port 0 on a free port, retrying when another process takes it first.</summary>
    /// <exception cref="HttpListenerException">The port is taken or access is denied; the message says which and what to do.</exception>
    public (HttpListener Listener, int Port) Bind()
    {
        IReadOnlyList<string> hosts = address.PrefixHosts();
        int attempts = address.Port == 0 ? MaxStartAttempts : 1;
        for (int attempt = 1; ; attempt++)
        {
            int port = address.Port == 0 ? address.FindFreePort() : address.Port;
            var listener = new HttpListener { IgnoreWriteExceptions = true };
            foreach (string host in hosts)
            {
                listener.Prefixes.Add($"http://{host}:{port}/");
            }

            try
            {
                listener.Start();
                return (listener, port);
            }
            catch (HttpListenerException e)
            {
                _ = Close(listener);
                if (IsAccessDenied(e) && hosts.Count > 1)
                {
                    // Windows lets a plain user register 'localhost' but not the '127.0.0.1' alias: keep the primary name.
                    hosts = [hosts[0]];
                    attempt--;
                    continue;
                }

                if (IsAddressInUse(e) && attempt < attempts)
                {
                    continue;
                }

                throw Explain(e, port, $"http://{hosts[0]}:{port}/");
            }
            catch (Exception e) when (e is ArgumentNullException or NullReferenceException or ObjectDisposedException)
            {
                // The managed listener's endpoint starts accepting before it is initialised, so a client that connects in
                // that instant makes its constructor throw, and the half-made endpoint keeps the port. Port 0 simply
                // tries another port; a fixed port cannot be had again in this process.
                _ = Close(listener);
                if (attempt < attempts)
                {
                    continue;
                }

                throw new HttpListenerException(
                    e.HResult,
                    $"Cannot listen on '{address}': HttpListener failed while opening port {port} because a client connected at " +
                    $"the very instant it started (a fault of .NET's managed HttpListener), and the port may stay taken until this " +
                    $"process exits. Restart the process, or listen on another port. ({e.GetType().Name}: {e.Message})");
            }
        }
    }

    /// <summary>
    /// Closes <paramref name="listener"/> once, aborting its open connections, and returns what it threw instead of
    /// throwing: a stop must complete whatever HttpListener does.
    /// </summary>
    /// <remarks>
    /// Only <see cref="HttpListener.Close"/>, never <see cref="HttpListener.Stop"/> first: on the managed listener
    /// (Linux, macOS) each of them removes the prefixes, and the second removal re-creates the endpoint, binding the
    /// port again and accepting a pending connection in its constructor, where it can throw and leave the new socket
    /// open for good.
    /// </remarks>
    public static Exception? Close(HttpListener listener) => Close(listener, static l => l.Close());

    /// <summary>Runs <paramref name="close"/> on <paramref name="listener"/> and returns what it threw instead of throwing.</summary>
    public static Exception? Close(HttpListener listener, Action<HttpListener> close)
    {
        try
        {
            close(listener);
            return null;
        }
        catch (ObjectDisposedException)
        {
            // Closed already.
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private HttpListenerException Explain(HttpListenerException e, int port, string prefix)
    {
        string message;
        if (IsAddressInUse(e))
        {
            message = $"Cannot listen on '{address}': port {port} is already in use by another process or server. " +
                $"Stop it or choose another port ('{address.DisplayHost}:0' picks a free one). ({e.Message})";
        }
        else if (IsAccessDenied(e))
        {
            string aclPrefix = $"http://{(address.Scope == ListenScope.AllInterfaces ? "+" : address.Host)}:{port}/";
            message = $"Access denied listening on prefix '{prefix}'. Either run, as administrator, " +
                $"'netsh http add urlacl url={aclPrefix} user=DOMAIN\\user', or listen on 'localhost:{port}', which needs no URL ACL. ({e.Message})";
        }
        else
        {
            message = $"Cannot listen on '{address}' (prefix '{prefix}'): {e.Message}";
        }

        return new HttpListenerException(e.ErrorCode, message);
    }

    private static bool IsAccessDenied(HttpListenerException e) => e.ErrorCode == 5;

    private static bool IsAddressInUse(HttpListenerException e) =>
        e.ErrorCode is 98 or 48 or 183 or 32 or 10048
        || e.Message.Contains("conflicts with an existing registration", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("already in use", StringComparison.OrdinalIgnoreCase);
}
