using Microsoft.Extensions.Diagnostics.HealthChecks;
using StatsHandler;
using StatsHandler.Hosting;

#pragma warning disable IDE0130 // Found beside AddStatsServer, with no using, as AddHealthChecks is.
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Serves the host's registered health checks on a <see cref="StatsServer"/> route.</summary>
public static class StatsServerHealthCheckExtensions
{
    /// <summary>
    /// Serves the health checks registered with <c>services.AddHealthChecks()</c> on <paramref name="pattern"/>: 200 when
    /// the report is Healthy or Degraded, 503 when Unhealthy, with a JSON body such as
    /// <c>{"status":"Unhealthy","duration_ms":1.2,"checks":{"db":{"status":"Unhealthy","duration_ms":1.1,"description":"timeout"}}}</c>.
    /// </summary>
    /// <param name="server">The server to mount the route on.</param>
    /// <param name="pattern">The path, such as <c>/healthz</c>.</param>
    /// <param name="services">The host's services, as the configure callback of <c>AddStatsServer</c> receives them.</param>
    /// <param name="predicate">Runs only the checks it accepts (for example by tag); null runs them all.</param>
    /// <returns>The server, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="server"/> or <paramref name="services"/> is null.</exception>
    /// <exception cref="InvalidOperationException">No health check service is registered: call <c>services.AddHealthChecks()</c>.</exception>
    public static StatsServer HandleHealthChecks(
        this StatsServer server,
        string pattern,
        IServiceProvider services,
        Func<HealthCheckRegistration, bool>? predicate = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(services);
        var healthChecks = services.GetService(typeof(HealthCheckService)) as HealthCheckService
            ?? throw new InvalidOperationException(
                $"Cannot serve health checks on '{pattern}': no HealthCheckService is registered. Call builder.Services.AddHealthChecks() and add your checks to it.");
        return server.Handle(pattern, new HealthChecksHandler(healthChecks, predicate));
    }
}
