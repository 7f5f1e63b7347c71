using System.Net;
using StatsHandler.WindowsService;

// A worker that serves this process's runtime stats for as long as the service runs. Under the Windows
// Service Control Manager, AddWindowsService (HostApplicationBuilder's form of IHostBuilder.UseWindowsService)
// reports start and stop to the SCM and logs to the Event Log; anywhere else it does nothing, so the same
// binary runs as a console app (Ctrl+C or SIGTERM stops it).

// The SCM starts services in C:\Windows\System32: read appsettings.json from beside the executable.
HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});
builder.Services.AddWindowsService(options => options.ServiceName = "StatsHandler");
builder.Services.Configure<StatsServerOptions>(builder.Configuration.GetSection(StatsServerOptions.Section));
builder.Services.AddHostedService<StatsServerService>();

using IHost host = builder.Build();
try
{
    await host.RunAsync();
    return 0;
}
catch (Exception e) when (e is HttpListenerException or ArgumentException)
{
    // The host has already logged "Hosting failed to start" with the reason (port taken, bad address, access
    // denied). Exit non-zero so the SCM records a failure and applies the service's recovery actions.
    return 1;
}
