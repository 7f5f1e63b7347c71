using System.Buffers;
using System.Net;

namespace StatsHandler;

/// <summary>
/// Serves an <see cref="IStatsWriter"/>'s format: per request one capture from the source, the writer, then the
/// response with an exact <c>Content-Length</c>. Buffers are pooled, so a writer that allocates nothing makes a request
/// that allocates nothing.
/// </summary>
internal sealed class WriterHandler : IStatsHandler, IDisposable
{
    private readonly IStatsWriter _writer;
    private readonly StatsCapture _capture;
    private readonly SmallPool<ArrayBufferWriter<byte>> _buffers = new(16);

    public WriterHandler(IStatsWriter writer, StatsSource source)
    {
        _writer = writer;
        _capture = new StatsCapture(source);
    }

    public async Task ServeHttpAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArrayBufferWriter<byte> buffer = _buffers.TryRent() ?? new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        try
        {
            string contentType;
            StatsSnapshot snapshot = _capture.Take();
            try
            {
                contentType = _writer.Write(snapshot, context.Request, buffer);
            }
            finally
            {
                _capture.Return(snapshot);
            }

            await StatsResponse.WriteAsync(context, 200, contentType, buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // A rare huge response should not pin its memory for the life of the handler.
            if (buffer.Capacity <= 1024 * 1024)
            {
                _buffers.TryReturn(buffer);
            }
        }
    }

    public void Dispose() => _capture.Dispose();
}
