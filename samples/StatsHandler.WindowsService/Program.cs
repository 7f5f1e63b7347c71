using System.Net;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

// A worker that serves its runtime stats, Prometheus metrics and health checks for as long as the service runs.
// Under the Windows Service Control Manager, AddWindowsService reports start and stop to the SCM and logs to the
// Event Log; anywhere else it does nothing, so the same binary runs as a console app (Ctrl+C or SIGTERM stops it).

// The SCM starts services in C:\Windows\System32: read appsettings.json from beside the executable.
HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});
builder.Services.AddWindowsService(options => options.ServiceName = "StatsHandler");
builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy("running"));
builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"), (services, server) => server
    .Handle("/api/stats")
    .HandlePrometheus("/metrics")
    .HandleHealthChecks("/healthz", services));

using IHost host = builder.Build();
try
{
    await host.RunAsync();
    return 0;
}
catch (Exception e) when (e is HttpListenerException or OptionsValidationException)
{
    // The host has already logged "Hosting failed to start" with the reason (port taken, a bad setting named by its
    // key, access denied). Exit non-zero so the SCM records a failure and applies the service's recovery actions.
    return 1;
}
