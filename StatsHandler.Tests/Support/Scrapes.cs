using System.Net;
using System.Text.Json;

namespace StatsHandler.Tests.Support;

/// <summary>Scrapes a Prometheus endpoint in either format and parses the result strictly.</summary>
internal static class Scrapes
{
    /// <summary>The Accept header Prometheus 2.x sends: OpenMetrics 1.0 first, text 0.0.4 as a fallback.</summary>
    public const string PrometheusAccept =
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

    public static async Task<string> GetTextAsync(HttpClient client, string path, bool openMetrics)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (openMetrics)
        {
            request.Headers.TryAddWithoutValidation("Accept", PrometheusAccept);
        }

        using HttpResponseMessage response = await client.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, body);
        response.Content.Headers.ContentType!.MediaType.Should().Be(openMetrics ? "application/openmetrics-text" : "text/plain");
        return body;
    }

    /// <summary>Scrapes and parses; a parser rejection fails the test with the whole output attached.</summary>
    public static async Task<Dictionary<string, ExpositionFamily>> ParseAsync(HttpClient client, string path, bool openMetrics)
    {
        string body = await GetTextAsync(client, path, openMetrics);
        try
        {
            return ExpositionParser.Parse(body, openMetrics);
        }
        catch (FormatException e)
        {
            Assert.Fail($"{(openMetrics ? "OpenMetrics" : "Text")} output rejected: {e.Message}\n--- output ---\n{body}");
            throw;
        }
    }

    public static async Task<JsonElement> GetJsonAsync(HttpClient client, string path)
    {
        using JsonDocument doc = await TestServers.GetJsonAsync(client, path);
        return doc.RootElement.Clone();
    }
}
