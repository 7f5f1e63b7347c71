using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace StatsHandler.Hosting;

/// <summary>
/// Reads a configuration section into <see cref="StatsServerOptions"/> key by key, with no reflection (so the package
/// stays trim- and AOT-clean), recording each value it cannot read, and each key it does not know, under its full path.
/// </summary>
internal static class StatsServerConfiguration
{
    private static readonly string[] KnownKeys = ["Address", "BearerToken", "BasicAuth", "AllowedHosts", "AllowAnonymous", "ConstantLabels", "Limits"];
    private static readonly string[] KnownBasicAuthKeys = ["User", "Password"];
    private static readonly string[] KnownLimitKeys = ["MaxUrlLength", "MaxConcurrentRequests", "RequestTimeout", "MaxResponseBytes", "DrainTimeout"];

    public static void Read(IConfiguration configuration, StatsServerOptions options)
    {
        string prefix = configuration is IConfigurationSection section ? section.Path : string.Empty;
        options.ConfigurationPath = prefix;

        CheckKnown(configuration, prefix, KnownKeys, options);
        options.Address = configuration["Address"] ?? options.Address;
        options.BearerToken = configuration["BearerToken"] ?? options.BearerToken;

        IConfigurationSection basic = configuration.GetSection("BasicAuth");
        CheckKnown(basic, basic.Path, KnownBasicAuthKeys, options);
        options.BasicAuthUser = basic["User"] ?? options.BasicAuthUser;
        options.BasicAuthPassword = basic["Password"] ?? options.BasicAuthPassword;

        // A list, or one string as ASP.NET Core's own AllowedHosts: "stats.example.com;localhost".
        ReadList(configuration.GetSection("AllowedHosts"), options.AllowedHosts);
        ReadList(configuration.GetSection("AllowAnonymous"), options.AllowAnonymous);

        foreach (IConfigurationSection label in configuration.GetSection("ConstantLabels").GetChildren())
        {
            // "ConstantLabels": { "service": "orders", "region": "eu-west-1" }, or StatsServer__ConstantLabels__service.
            options.ConstantLabels[label.Key] = label.Value ?? string.Empty;
        }

        IConfigurationSection limits = configuration.GetSection("Limits");
        CheckKnown(limits, limits.Path, KnownLimitKeys, options);
        StatsServerLimitsOptions l = options.Limits;
        l.MaxUrlLength = ReadInt(limits, "MaxUrlLength", "8192", options) ?? l.MaxUrlLength;
        l.MaxConcurrentRequests = ReadInt(limits, "MaxConcurrentRequests", "100", options) ?? l.MaxConcurrentRequests;
        l.RequestTimeout = ReadTimeSpan(limits, "RequestTimeout", "00:00:10", options) ?? l.RequestTimeout;
        l.MaxResponseBytes = ReadLong(limits, "MaxResponseBytes", "16777216", options) ?? l.MaxResponseBytes;
        l.DrainTimeout = ReadTimeSpan(limits, "DrainTimeout", "00:00:05", options) ?? l.DrainTimeout;
    }

    /// <summary>The full configuration key of <paramref name="key"/> under <paramref name="prefix"/>, as errors name it.</summary>
    public static string Key(string prefix, string key) => string.IsNullOrEmpty(prefix) ? key : prefix + ConfigurationPath.KeyDelimiter + key;

    private static void ReadList(IConfigurationSection section, IList<string> into)
    {
        if (section.Value is { } list)
        {
            foreach (string item in list.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                into.Add(item);
            }
        }

        foreach (IConfigurationSection item in section.GetChildren())
        {
            if (!string.IsNullOrWhiteSpace(item.Value))
            {
                into.Add(item.Value.Trim());
            }
        }
    }

    private static void CheckKnown(IConfiguration section, string prefix, string[] known, StatsServerOptions options)
    {
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (!known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                options.ReadErrors.Add(
                    $"{Key(prefix, child.Key)}: not a StatsServer setting. Known keys here: {string.Join(", ", known)}.");
            }
        }
    }

    private static int? ReadInt(IConfigurationSection section, string key, string example, StatsServerOptions options) =>
        Read(section, key, example, "a whole number", options, (string s, out int v) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v));

    private static long? ReadLong(IConfigurationSection section, string key, string example, StatsServerOptions options) =>
        Read(section, key, example, "a whole number", options, (string s, out long v) => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v));

    private static TimeSpan? ReadTimeSpan(IConfigurationSection section, string key, string example, StatsServerOptions options) =>
        Read(section, key, example, "a time span (hh:mm:ss)", options, (string s, out TimeSpan v) => TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out v));

    private delegate bool TryParse<T>(string text, out T value);

    private static T? Read<T>(IConfigurationSection section, string key, string example, string kind, StatsServerOptions options, TryParse<T> parse)
        where T : struct
    {
        string? text = section[key];
        if (text is null)
        {
            return null;
        }

        if (parse(text.Trim(), out T value))
        {
            return value;
        }

        options.ReadErrors.Add($"{Key(section.Path, key)}: '{text}' is not {kind}. Example: {example}.");
        return null;
    }
}
