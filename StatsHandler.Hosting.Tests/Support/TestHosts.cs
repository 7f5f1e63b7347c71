using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace StatsHandler.Hosting.Tests.Support;

/// <summary>Builds a Generic Host as an application would, with settings given in memory and logs recorded.</summary>
internal static class TestHosts
{
    /// <summary>A bound for every start, stop and request: generous for a shared 2-core machine, never a sleep.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A host builder whose configuration holds <paramref name="settings"/> (keys such as <c>StatsServer:Address</c>;
    /// the address defaults to <c>127.0.0.1:0</c>) and whose logs go to <paramref name="logs"/>.
    /// </summary>
    public static HostApplicationBuilder Builder(RecordingLoggerProvider logs, IDictionary<string, string?>? settings = null)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var all = new Dictionary<string, string?> { ["StatsServer:Address"] = "127.0.0.1:0" };
        foreach ((string key, string? value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(all);
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(logs);
        return builder;
    }

    /// <summary>The URL of <paramref name="path"/> on the started host's stats server.</summary>
    public static Uri Url(this IHost host, string path) =>
        new(host.Services.GetRequiredService<StatsServerService>().Server.Url, path.TrimStart('/'));

    public static HttpClient Client() => new() { Timeout = Bound };
}
