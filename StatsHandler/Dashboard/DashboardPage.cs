using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace StatsHandler;

/// <summary>
/// Builds the dashboard document: the embedded HTML with the embedded CSS and JavaScript inlined, the stats URL (and
/// the profiles URL, when there is one) in <c>meta</c> elements, and a Content-Security-Policy that allows exactly that script and that style by their SHA-256.
/// </summary>
/// <remarks>
/// Inlining keeps the page one request on one exact path (routes match exactly); hashes rather than
/// <c>'unsafe-inline'</c> mean an injected script or style would not run. The URLs go in markup, not in the
/// script, so the script's hash does not depend on them.
/// </remarks>
internal sealed class DashboardPage
{
    private const string ResourcePrefix = "StatsHandler.Dashboard.";

    private DashboardPage(byte[] html, string contentSecurityPolicy)
    {
        Html = html;
        ContentSecurityPolicy = contentSecurityPolicy;
    }

    /// <summary>The whole document, UTF-8.</summary>
    public ReadOnlyMemory<byte> Html { get; }

    /// <summary>The <c>Content-Security-Policy</c> header value for <see cref="Html"/>.</summary>
    public string ContentSecurityPolicy { get; }

    /// <summary>
    /// Builds the page for a validated same-origin <paramref name="statsUrl"/>, headed <paramref name="title"/>, with a
    /// "CPU profile" button when <paramref name="profilesUrl"/> (a validated same-origin path) is given.
    /// </summary>
    /// <exception cref="InvalidOperationException">A resource is missing or would break out of its element.</exception>
    public static DashboardPage Build(string statsUrl, string title = "StatsHandler", string? profilesUrl = null)
    {
        string template = ReadResource("dashboard.html");
        string style = ReadResource("dashboard.css");
        string script = ReadResource("dashboard.js");
        ThrowIfBreaksOut(style, "</style", "dashboard.css");
        ThrowIfBreaksOut(script, "</script", "dashboard.js");

        string html = template
            .Replace("{{stats-url}}", WebUtility.HtmlEncode(statsUrl), StringComparison.Ordinal)
            .Replace("{{profiles-url}}", WebUtility.HtmlEncode(profilesUrl ?? string.Empty), StringComparison.Ordinal)
            .Replace("{{title}}", WebUtility.HtmlEncode(title), StringComparison.Ordinal)
            .Replace("/*{{style}}*/", style, StringComparison.Ordinal)
            .Replace("/*{{script}}*/", script, StringComparison.Ordinal);

        string csp =
            "default-src 'none'; " +
            $"script-src '{Sha256(script)}'; " +
            $"style-src '{Sha256(style)}'; " +
            "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        return new DashboardPage(Encoding.UTF8.GetBytes(html), csp);
    }

    /// <summary>The CSP source for <paramref name="text"/>: <c>sha256-</c> and the Base64 of its UTF-8 digest.</summary>
    internal static string Sha256(string text) =>
        "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    internal static string ReadResource(string name)
    {
        Assembly assembly = typeof(DashboardPage).Assembly;
        using Stream stream = assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"The dashboard resource '{ResourcePrefix + name}' is missing from {assembly.GetName().Name}.");

        // StreamReader drops a byte-order mark, which would otherwise end up inside the hashed text.
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    private static void ThrowIfBreaksOut(string text, string closingTag, string name)
    {
        if (text.Contains(closingTag, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"The dashboard resource '{name}' contains '{closingTag}', which would end its inline element early.");
        }
    }
}
