using System.Runtime.InteropServices;

namespace StatsHandler;

/// <summary>
/// For the length of a <see cref="StatsServer.ListenAndServeAsync"/> call: SIGINT (Ctrl+C), SIGTERM (<c>docker stop</c>,
/// systemd, <c>kill</c>) and SIGQUIT start a graceful stop instead of ending the process at once. A second signal while
/// the server drains is left to its default action, so a host always exits when asked twice.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private static readonly PosixSignal[] Signals = [PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT];

    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly Action _stop;
    private int _received;

    private StopSignals(Action stop) => _stop = stop;

    /// <summary>Registers the signals this platform supports (none in a browser or on iOS); <paramref name="stop"/> runs once.</summary>
    public static StopSignals Register(Action stop)
    {
        var signals = new StopSignals(stop);
        foreach (PosixSignal signal in Signals)
        {
            try
            {
                signals._registrations.Add(PosixSignalRegistration.Create(signal, signals.OnSignal));
            }
            catch (PlatformNotSupportedException)
            {
                // This platform has no such signal (SIGQUIT on Windows, or none at all): the app's default applies.
            }
        }

        return signals;
    }

    public void Dispose()
    {
        foreach (PosixSignalRegistration registration in _registrations)
        {
            registration.Dispose();
        }
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _received) == 1)
        {
            // Keep the process alive: ListenAndServeAsync returns once the stop has drained, and the app's Main ends.
            context.Cancel = true;
            _stop();
        }
    }
}
