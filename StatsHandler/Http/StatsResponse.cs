using System.Buffers;
using System.Net;
using System.Text;
using System.Text.Json;

namespace StatsHandler;

/// <summary>
/// Writes a whole response in one go: status, <c>Content-Type</c>, an exact <c>Content-Length</c>, the body in a single
/// write, and no body for HEAD. Use it from your own handlers to get the same behaviour as the built-in ones.
/// </summary>
/// <remarks>
/// HttpListener sends whatever is written to the output stream even for a HEAD request, and a body written in pieces
/// can stall a kept-alive connection; these helpers avoid both.
/// </remarks>
public static class StatsResponse
{
    /// <summary>The content type of JSON bodies.</summary>
    public const string JsonContentType = "application/json; charset=utf-8";

    /// <summary>The content type of plain-text bodies.</summary>
    public const string TextContentType = "text/plain; charset=utf-8";

    /// <summary>Writes <paramref name="body"/> with <paramref name="statusCode"/> and <paramref name="contentType"/>.</summary>
    /// <param name="context">The request's context.</param>
    /// <param name="statusCode">The HTTP status code, 100-599.</param>
    /// <param name="contentType">The <c>Content-Type</c> header.</param>
    /// <param name="body">The whole body; not sent for HEAD, though its length is.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the body has been handed to the connection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> or <paramref name="contentType"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="statusCode"/> is not 100-599.</exception>
    /// <exception cref="InvalidOperationException">
    /// Inside a <see cref="StatsServer"/> request, <paramref name="body"/> is larger than <see cref="StatsServerLimits.MaxResponseBytes"/>.
    /// </exception>
    public static Task WriteAsync(
        HttpListenerContext context,
        int statusCode,
        string contentType,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(contentType);
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);

        RequestScope? scope = RequestScope.Current;
        if (scope is not null && body.Length > scope.MaxResponseBytes)
        {
            throw new InvalidOperationException(
                $"The response body of {body.Length} bytes exceeds the server's limit of {scope.MaxResponseBytes} bytes " +
                "(StatsServer.Limits.MaxResponseBytes). Send less, or raise the limit before starting the server.");
        }

        HttpListenerResponse response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = contentType;
        response.ContentLength64 = body.Length;
        if (body.IsEmpty || IsHead(context.Request))
        {
            return Task.CompletedTask;
        }

        return response.OutputStream.WriteAsync(body, cancellationToken).AsTask();
    }

    /// <summary>Writes <paramref name="text"/> as a UTF-8 plain-text body.</summary>
    /// <param name="context">The request's context.</param>
    /// <param name="statusCode">The HTTP status code, 100-599.</param>
    /// <param name="text">The body text.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the body has been handed to the connection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> or <paramref name="text"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="statusCode"/> is not 100-599.</exception>
    public static Task WriteTextAsync(HttpListenerContext context, int statusCode, string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return WriteAsync(context, statusCode, TextContentType, Encoding.UTF8.GetBytes(text), cancellationToken);
    }

    /// <summary>Writes a JSON body produced by <paramref name="write"/>.</summary>
    /// <param name="context">The request's context.</param>
    /// <param name="statusCode">The HTTP status code, 100-599.</param>
    /// <param name="write">Writes one JSON value.</param>
    /// <param name="indented">True to indent the JSON.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the body has been handed to the connection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> or <paramref name="write"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="statusCode"/> is not 100-599.</exception>
    public static async Task WriteJsonAsync(
        HttpListenerContext context,
        int statusCode,
        Action<Utf8JsonWriter> write,
        bool indented = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            write(writer);
        }

        await WriteAsync(context, statusCode, JsonContentType, buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes <c>{"error": message, "status": statusCode}</c>, the body of every error the server sends.</summary>
    /// <param name="context">The request's context.</param>
    /// <param name="statusCode">The HTTP status code, 100-599.</param>
    /// <param name="message">A short message for the client; never a stack trace.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the body has been handed to the connection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> or <paramref name="message"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="statusCode"/> is not 100-599.</exception>
    public static Task WriteErrorAsync(HttpListenerContext context, int statusCode, string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return WriteJsonAsync(
            context,
            statusCode,
            w =>
            {
                w.WriteStartObject();
                w.WriteString("error", message);
                w.WriteNumber("status", statusCode);
                w.WriteEndObject();
            },
            indented: false,
            cancellationToken);
    }

    internal static bool IsHead(HttpListenerRequest request) =>
        string.Equals(request.HttpMethod, "HEAD", StringComparison.OrdinalIgnoreCase);
}
