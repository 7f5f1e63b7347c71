using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace StatsHandler.Hosting;

/// <summary>
/// Serves the application's registered health checks, as ASP.NET Core's <c>MapHealthChecks</c> does: 200 when the
/// report is Healthy or Degraded, 503 when Unhealthy, with a JSON body of the overall status and each check's status,
/// duration and description. A check's exception message is not sent (it may hold connection strings): the health
/// check service logs it.
/// </summary>
internal sealed class HealthChecksHandler(HealthCheckService healthChecks, Func<HealthCheckRegistration, bool>? predicate) : IStatsHandler
{
    private static readonly JsonEncodedText StatusKey = JsonEncodedText.Encode("status");
    private static readonly JsonEncodedText DurationKey = JsonEncodedText.Encode("duration_ms");
    private static readonly JsonEncodedText ChecksKey = JsonEncodedText.Encode("checks");
    private static readonly JsonEncodedText DescriptionKey = JsonEncodedText.Encode("description");
    private static readonly JsonEncodedText TagsKey = JsonEncodedText.Encode("tags");

    public async Task ServeHttpAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        HealthReport report = await healthChecks.CheckHealthAsync(predicate, cancellationToken).ConfigureAwait(false);
        int status = report.Status == HealthStatus.Unhealthy ? (int)HttpStatusCode.ServiceUnavailable : (int)HttpStatusCode.OK;
        await StatsResponse.WriteJsonAsync(context, status, w => Write(w, report), indented: IsPretty(context), cancellationToken).ConfigureAwait(false);
    }

    internal static void Write(Utf8JsonWriter writer, HealthReport report)
    {
        writer.WriteStartObject();
        writer.WriteString(StatusKey, report.Status.ToString());
        writer.WriteNumber(DurationKey, Math.Round(report.TotalDuration.TotalMilliseconds, 3));
        writer.WriteStartObject(ChecksKey);
        foreach ((string name, HealthReportEntry entry) in report.Entries)
        {
            writer.WriteStartObject(name);
            writer.WriteString(StatusKey, entry.Status.ToString());
            writer.WriteNumber(DurationKey, Math.Round(entry.Duration.TotalMilliseconds, 3));
            // A check that threw carries its exception's message as the description: leave it to the log.
            if (entry.Exception is null && entry.Description is { } description)
            {
                writer.WriteString(DescriptionKey, description);
            }

            if (entry.Tags.Any())
            {
                writer.WriteStartArray(TagsKey);
                foreach (string tag in entry.Tags)
                {
                    writer.WriteStringValue(tag);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    // ?pp=1 indents, as on the stats endpoint.
    private static bool IsPretty(HttpListenerContext context) => context.Request.QueryString["pp"] is "1" or "true";
}
