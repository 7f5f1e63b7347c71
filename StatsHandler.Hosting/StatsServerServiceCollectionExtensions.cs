using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StatsHandler;
using StatsHandler.Hosting;

#pragma warning disable IDE0130 // Found on builder.Services with no using, as AddHostedService and AddHealthChecks are.
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Registers a <see cref="StatsServer"/> that lives as long as the host.</summary>
public static class StatsServerServiceCollectionExtensions
{
    /// <summary>
    /// Runs a <see cref="StatsServer"/> for the host's lifetime: its settings come from <paramref name="configuration"/>
    /// (see <see cref="StatsServerOptions"/>) and are checked when the host starts; <paramref name="configure"/> mounts
    /// the routes. The server's errors go to the <c>StatsHandler.StatsServer</c> logger.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"), server => server
    ///     .Handle("/api/stats")
    ///     .HandlePrometheus("/metrics"));
    /// </code>
    /// </example>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The section holding the settings, usually <c>builder.Configuration.GetSection("StatsServer")</c>.</param>
    /// <param name="configure">Mounts routes and anything else on the server before it starts; null serves <c>/api/stats</c>.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configuration"/> is null.</exception>
    /// <exception cref="InvalidOperationException">A stats server is already registered.</exception>
    public static IServiceCollection AddStatsServer(this IServiceCollection services, IConfiguration configuration, Action<StatsServer>? configure = null)
    {
        Action<StatsServer> routes = configure ?? (server => server.Handle("/api/stats"));
        return services.AddStatsServer(configuration, (_, server) => routes(server));
    }

    /// <summary>
    /// Runs a <see cref="StatsServer"/> for the host's lifetime, as <see cref="AddStatsServer(IServiceCollection, IConfiguration, Action{StatsServer})"/>,
    /// with the host's services in the callback: for health checks (<see cref="StatsServerHealthCheckExtensions.HandleHealthChecks"/>)
    /// or values to <see cref="StatsServer.Publish(string, Func{long})"/> from a registered service.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy());
    /// builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"), (services, server) => server
    ///     .Handle("/api/stats")
    ///     .HandleHealthChecks("/healthz", services));
    /// </code>
    /// </example>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The section holding the settings, usually <c>builder.Configuration.GetSection("StatsServer")</c>.</param>
    /// <param name="configure">Receives the host's services and the server; mounts routes before the server starts.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidOperationException">A stats server is already registered.</exception>
    public static IServiceCollection AddStatsServer(this IServiceCollection services, IConfiguration configuration, Action<IServiceProvider, StatsServer> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(configure);
        if (services.Any(d => d.ServiceType == typeof(StatsServerService)))
        {
            throw new InvalidOperationException(
                "AddStatsServer was already called: one host runs one stats server. Mount every route in one configure callback.");
        }

        services.AddOptions();
        services.AddSingleton<IConfigureOptions<StatsServerOptions>>(
            new ConfigureOptions<StatsServerOptions>(options => StatsServerConfiguration.Read(configuration, options)));
        services.AddSingleton(sp => new StatsServerService(
            sp,
            sp.GetRequiredService<IOptions<StatsServerOptions>>(),
            sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance,
            configure));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, StatsServerService>(sp => sp.GetRequiredService<StatsServerService>()));
        return services;
    }
}
