using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StatsHandler.Tests.Support;

/// <summary>
/// A minimal Chrome DevTools Protocol client over <see cref="ClientWebSocket"/>: numbered commands with their answers,
/// and every event kept in <see cref="Events"/> and passed to <see cref="EventReceived"/>. Sessions are "flat"
/// (<c>Target.attachToTarget</c> with <c>flatten</c>), so one socket carries the browser and its pages.
/// </summary>
internal sealed class CdpClient : IAsyncDisposable
{
    public static readonly TimeSpan CommandBound = TimeSpan.FromSeconds(30);

    private readonly ClientWebSocket _socket;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _receiveLoop;
    private int _nextId;

    private CdpClient(ClientWebSocket socket)
    {
        _socket = socket;
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>Every event received, in order.</summary>
    public ConcurrentQueue<CdpEvent> Events { get; } = new();

    /// <summary>Raised on the receive loop for each event; keep handlers short.</summary>
    public event Action<CdpEvent>? EventReceived;

    public static async Task<CdpClient> ConnectAsync(Uri webSocketUrl, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        try
        {
            await socket.ConnectAsync(webSocketUrl, cancellationToken);
            return new CdpClient(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="method"/> and returns its <c>result</c>; throws <see cref="CdpException"/> on an error answer.</summary>
    public async Task<JsonElement> SendAsync(string method, JsonObject? parameters = null, string? sessionId = null, CancellationToken cancellationToken = default)
    {
        int id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? [] };
        if (sessionId is not null)
        {
            message["sessionId"] = sessionId;
        }

        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        try
        {
            byte[] bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
            await _sendLock.WaitAsync(cancellationToken);
            try
            {
                await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }
            finally
            {
                _sendLock.Release();
            }

            return await answer.Task.WaitAsync(CommandBound, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"CDP command {method} got no answer within {CommandBound.TotalSeconds} s.");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        if (_socket.State == WebSocketState.Open)
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", bound.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The browser has gone already; the socket is aborted below either way.
            }
        }

        _socket.Abort();
        try
        {
            await _receiveLoop.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            // The loop is stuck in a receive on an aborted socket; disposing the socket ends it.
        }

        _socket.Dispose();
        _sendLock.Dispose();
        _closing.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        Exception failure = new WebSocketException("The DevTools connection closed.");
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                WebSocketReceiveResult result = await _socket.ReceiveAsync(buffer, _closing.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                Dispatch(message.GetBuffer().AsMemory(0, (int)message.Length));
                message.SetLength(0);
            }
        }
        catch (Exception e)
        {
            // A closed socket, or a message or event handler that failed: either way no answer will come, so the
            // commands waiting below fail now with the reason rather than at their timeout.
            failure = e;
        }

        foreach (TaskCompletionSource<JsonElement> pending in _pending.Values)
        {
            pending.TrySetException(new CdpException($"The DevTools connection ended before the answer: {failure.Message}"));
        }
    }

    private void Dispatch(ReadOnlyMemory<byte> json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        JsonElement root = doc.RootElement;
        if (root.TryGetProperty("id", out JsonElement idElement))
        {
            if (_pending.TryGetValue(idElement.GetInt32(), out TaskCompletionSource<JsonElement>? answer))
            {
                if (root.TryGetProperty("error", out JsonElement error))
                {
                    answer.TrySetException(new CdpException($"CDP error: {error.GetRawText()}"));
                }
                else
                {
                    answer.TrySetResult(root.TryGetProperty("result", out JsonElement result) ? result.Clone() : default);
                }
            }

            return;
        }

        var e = new CdpEvent(
            root.GetProperty("method").GetString()!,
            root.TryGetProperty("params", out JsonElement p) ? p.Clone() : default,
            root.TryGetProperty("sessionId", out JsonElement s) ? s.GetString() : null);
        Events.Enqueue(e);
        EventReceived?.Invoke(e);
    }
}

/// <summary>One DevTools event: its method, parameters and the session it came from (null for the browser).</summary>
internal sealed record CdpEvent(string Method, JsonElement Params, string? SessionId);

/// <summary>A DevTools command failed, or the connection ended before it was answered.</summary>
internal sealed class CdpException(string message) : Exception(message);
