using System.Text.Json;
using System.Text.Json.Nodes;

namespace StatsHandler.Tests.Support;

/// <summary>One tab's DevTools session: commands go to its session id, and its events are the ones carrying it.</summary>
internal sealed class CdpPage(CdpClient client, string sessionId)
{
    public string SessionId { get; } = sessionId;

    public Task<JsonElement> SendAsync(string method, JsonObject? parameters = null, CancellationToken cancellationToken = default) =>
        client.SendAsync(method, parameters, SessionId, cancellationToken);

    /// <summary>Evaluates <paramref name="expression"/> in the page and returns its value; a thrown script error fails.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression, CancellationToken cancellationToken = default)
    {
        JsonElement result = await SendAsync(
            "Runtime.evaluate",
            new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true },
            cancellationToken);
        if (result.TryGetProperty("exceptionDetails", out JsonElement details))
        {
            throw new CdpException($"Script failed: {expression}{Environment.NewLine}{details.GetRawText()}");
        }

        JsonElement remote = result.GetProperty("result");
        return remote.TryGetProperty("value", out JsonElement value) ? value : default;
    }

    /// <summary>Takes a PNG of the viewport and writes it to <paramref name="path"/>.</summary>
    public async Task ScreenshotAsync(string path, CancellationToken cancellationToken = default)
    {
        JsonElement shot = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" }, cancellationToken);
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(shot.GetProperty("data").GetString()!), cancellationToken);
    }
}
