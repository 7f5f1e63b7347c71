using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace StatsHandler.Tests.Support;

/// <summary>
/// Headless Chromium with one 1280x800 page opened at a dashboard, recording the page's uncaught script exceptions.
/// Fails the test when Chromium is not installed.
/// </summary>
internal sealed class DashboardBrowser : IAsyncDisposable
{
    private readonly HeadlessChromium _chromium;

    private DashboardBrowser(HeadlessChromium chromium, CdpPage page)
    {
        _chromium = chromium;
        Page = page;
    }

    public CdpPage Page { get; }

    /// <summary>The DevTools description of every uncaught exception in the page's scripts.</summary>
    public ConcurrentQueue<string> Exceptions { get; } = new();

    public static async Task<DashboardBrowser> OpenAsync(Uri url, CancellationToken cancellationToken)
    {
        string? executable = HeadlessChromium.FindExecutable();
        if (executable is null)
        {
            Assert.Fail(HeadlessChromium.MissingMessage());
        }

        HeadlessChromium chromium = await HeadlessChromium.LaunchAsync(executable!, cancellationToken);
        try
        {
            CdpPage page = await chromium.NewPageAsync(cancellationToken);
            var browser = new DashboardBrowser(chromium, page);
            chromium.Client.EventReceived += e =>
            {
                if (e.SessionId == page.SessionId && e.Method == "Runtime.exceptionThrown")
                {
                    browser.Exceptions.Enqueue(e.Params.GetRawText());
                }
            };
            await page.SendAsync("Runtime.enable", cancellationToken: cancellationToken);
            await page.SendAsync(
                "Emulation.setDeviceMetricsOverride",
                new JsonObject { ["width"] = 1280, ["height"] = 800, ["deviceScaleFactor"] = 1, ["mobile"] = false },
                cancellationToken);
            await page.SendAsync("Page.navigate", new JsonObject { ["url"] = url.ToString() }, cancellationToken);
            return browser;
        }
        catch
        {
            await chromium.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => _chromium.DisposeAsync();
}
