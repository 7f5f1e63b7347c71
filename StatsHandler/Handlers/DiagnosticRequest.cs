using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;

namespace StatsHandler;

/// <summary>
/// What the routes that run a diagnostic session (a trace, a profile) share: the <c>?seconds=</c> option, and the watch
/// that ends a session when its client goes away rather than run on for a minute nobody will read.
/// </summary>
internal static class DiagnosticRequest
{
    /// <summary>The longest session a request may ask for, in seconds.</summary>
    public const int MaxSeconds = 60;

    /// <summary>How often a running session checks that its client is still connected, at most.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The wait between two checks is at least this many times as long as the last check took: on a machine with tens of
    /// thousands of sockets (TIME_WAIT after a load test) reading the connection table takes 0.1-0.5 s, and checking
    /// every 0.5 s then showed as a third of a CPU profile's samples. So the watch spends at most about 5% of a core.
    /// </summary>
    public const int CostFactor = 20;

    /// <summary>
    /// Reads <c>?seconds=N</c>: <paramref name="defaultSeconds"/> when absent; false with the 400's message when it is
    /// not a whole number from 1 to <see cref="MaxSeconds"/>.
    /// </summary>
    public static bool TryParseSeconds(HttpListenerRequest request, int defaultSeconds, out int seconds, [NotNullWhen(false)] out string? error)
    {
        seconds = defaultSeconds;
        error = null;
        string? text = request.QueryString["seconds"];
        if (text is not null
            && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out seconds) || seconds is < 1 or > MaxSeconds))
        {
            error = $"seconds='{text}' is not a whole number from 1 to {MaxSeconds}; for example ?seconds={defaultSeconds}";
            return false;
        }

        return true;
    }

    /// <summary>
    /// Checks every <see cref="Interval"/> (or <see cref="CostFactor"/> times as long as a check takes, when that is
    /// longer) that the client is still there, and cancels <paramref name="stop"/> when it is not; ends when
    /// <paramref name="stop"/> is cancelled. True when the client left.
    /// </summary>
    public static async Task<bool> WatchClientAsync(HttpListenerRequest request, CancellationTokenSource stop)
    {
        TimeSpan wait = Interval;
        try
        {
            while (true)
            {
                await Task.Delay(wait, stop.Token).ConfigureAwait(false);
                long started = Stopwatch.GetTimestamp();
                if (!IsConnected(request))
                {
                    await stop.CancelAsync().ConfigureAwait(false);
                    return true;
                }

                TimeSpan took = Stopwatch.GetElapsedTime(started);
                wait = took * CostFactor > Interval ? took * CostFactor : Interval;
            }
        }
        catch (OperationCanceledException)
        {
            // The session ended: its time is up, it finished, or the server stops.
            return false;
        }
    }

    /// <summary>
    /// True while the client's TCP connection is still established. The server's listener ignores write errors (one
    /// request never fails another), and nothing is written while a profile is collected, so a departed client shows
    /// only in the system's connection table.
    /// </summary>
    public static bool IsConnected(HttpListenerRequest request)
    {
        int local = request.LocalEndPoint.Port;
        int remote = request.RemoteEndPoint.Port;
        try
        {
            foreach (TcpConnectionInformation c in IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpConnections())
            {
                if (c.LocalEndPoint.Port == local && c.RemoteEndPoint.Port == remote)
                {
                    return c.State == TcpState.Established;
                }
            }

            return false;
        }
        catch (NetworkInformationException)
        {
            // The table cannot be read here: the time limit and the server's stop still end the session.
            return true;
        }
    }
}
