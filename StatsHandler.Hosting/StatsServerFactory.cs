using Microsoft.Extensions.Options;

namespace StatsHandler.Hosting;

/// <summary>
/// Turns <see cref="StatsServerOptions"/> into a configured <see cref="StatsServer"/>, reporting every bad setting at
/// once, each under its configuration key: the server's own checks decide what is valid, this only names the key.
/// </summary>
internal static class StatsServerFactory
{
    public static StatsServer Create(StatsServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>(options.ReadErrors);
        string prefix = options.ConfigurationPath;
        string Key(string key) => StatsServerConfiguration.Key(prefix, key);

        StatsServer? server = null;
        Try(errors, Key("Address"), () => server = new StatsServer(options.Address));
        // With a bad address, still check the other settings on a stand-in, so one start names every mistake.
        // The stand-in listens nowhere (it never starts); on all interfaces so that allowed hosts are not refused for it.
        StatsServer target = server ?? new StatsServer(":0");
        try
        {
            ApplyLimits(target.Limits, options.Limits, errors, Key);
            ApplyCredentials(target, options, errors, Key);
            if (options.AllowedHosts.Count > 0)
            {
                Try(errors, Key("AllowedHosts"), () => target.AllowHosts([.. options.AllowedHosts]));
            }

            foreach ((string name, string value) in options.ConstantLabels)
            {
                Try(errors, Key("ConstantLabels:" + name), () => target.AddConstantLabel(name, value));
            }
        }
        catch
        {
            target.Dispose();
            throw;
        }

        if (errors.Count > 0)
        {
            target.Dispose();
            Throw(errors);
        }

        return target;
    }

    /// <summary>
    /// Opens the configured anonymous routes; called after the application's callback has mounted its routes.
    /// </summary>
    /// <exception cref="OptionsValidationException">A route is not an absolute path, or nothing is mounted there.</exception>
    public static void ApplyAnonymousRoutes(StatsServer server, StatsServerOptions options)
    {
        var errors = new List<string>();
        foreach (string pattern in options.AllowAnonymous)
        {
            Try(errors, StatsServerConfiguration.Key(options.ConfigurationPath, "AllowAnonymous"), () => server.AllowAnonymous(pattern));
        }

        if (errors.Count > 0)
        {
            Throw(errors);
        }
    }

    private static void Throw(List<string> errors) =>
        throw new OptionsValidationException(Options.DefaultName, typeof(StatsServerOptions), errors);

    private static void ApplyLimits(StatsServerLimits limits, StatsServerLimitsOptions options, List<string> errors, Func<string, string> key)
    {
        if (options.MaxUrlLength is { } maxUrl)
        {
            Try(errors, key("Limits:MaxUrlLength"), () => limits.MaxUrlLength = maxUrl);
        }

        if (options.MaxConcurrentRequests is { } maxConcurrent)
        {
            Try(errors, key("Limits:MaxConcurrentRequests"), () => limits.MaxConcurrentRequests = maxConcurrent);
        }

        if (options.RequestTimeout is { } requestTimeout)
        {
            Try(errors, key("Limits:RequestTimeout"), () => limits.RequestTimeout = requestTimeout);
        }

        if (options.MaxResponseBytes is { } maxResponse)
        {
            Try(errors, key("Limits:MaxResponseBytes"), () => limits.MaxResponseBytes = maxResponse);
        }

        if (options.DrainTimeout is { } drainTimeout)
        {
            Try(errors, key("Limits:DrainTimeout"), () => limits.DrainTimeout = drainTimeout);
        }
    }

    private static void ApplyCredentials(StatsServer server, StatsServerOptions options, List<string> errors, Func<string, string> key)
    {
        if (options.BearerToken is { } token)
        {
            Try(errors, key("BearerToken"), () => server.RequireBearerToken(token));
        }

        bool hasUser = options.BasicAuthUser is not null;
        bool hasPassword = options.BasicAuthPassword is not null;
        if (hasUser && hasPassword)
        {
            Try(errors, key("BasicAuth:User"), () => server.RequireBasicAuth(options.BasicAuthUser!, options.BasicAuthPassword!));
        }
        else if (hasUser || hasPassword)
        {
            string missing = hasUser ? "BasicAuth:Password" : "BasicAuth:User";
            errors.Add($"{key(missing)}: missing. Basic authentication needs both {key("BasicAuth:User")} and {key("BasicAuth:Password")}.");
        }
    }

    private static void Try(List<string> errors, string key, Action apply)
    {
        try
        {
            apply();
        }
        catch (Exception e) when (e is ArgumentException or PlatformNotSupportedException or InvalidOperationException)
        {
            // ArgumentOutOfRangeException appends "Actual value was ..." on a second line: the first says it all.
            errors.Add($"{key}: {e.Message.Split('\n')[0].TrimEnd()}");
        }
    }
}
