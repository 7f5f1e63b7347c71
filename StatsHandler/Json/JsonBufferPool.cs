using System.Buffers;
using System.Text.Json;

namespace StatsHandler;

/// <summary>
/// A handler's small pool of reusable response buffers with their JSON writers, so that serving a request writes into
/// memory that earlier requests already grew, and allocates nothing in steady state.
/// </summary>
internal sealed class JsonBufferPool
{
    private static readonly JsonWriterOptions Compact = new() { SkipValidation = true };
    private static readonly JsonWriterOptions Indented = new() { Indented = true, SkipValidation = true };

    private readonly SmallPool<Lease> _free = new(16);

    /// <summary>Takes a buffer, empty, with a writer ready to write into it.</summary>
    public Lease Rent(bool indented)
    {
        Lease lease = _free.TryRent() ?? new Lease();
        lease.Prepare(indented);
        return lease;
    }

    /// <summary>Gives a buffer back; beyond the pool's capacity it is left to the GC.</summary>
    public void Return(Lease lease)
    {
        if (lease.Buffer.Capacity > 1024 * 1024)
        {
            // A rare huge response should not pin its memory for the life of the handler.
            return;
        }

        _free.TryReturn(lease);
    }

    /// <summary>One buffer and the writers that write into it.</summary>
    internal sealed class Lease
    {
        private Utf8JsonWriter? _compact;
        private Utf8JsonWriter? _indented;

        public ArrayBufferWriter<byte> Buffer { get; } = new(4096);

        public Utf8JsonWriter Writer { get; private set; } = null!;

        public void Prepare(bool indented)
        {
            Buffer.ResetWrittenCount();
            Writer = indented
                ? _indented ??= new Utf8JsonWriter(Buffer, Indented)
                : _compact ??= new Utf8JsonWriter(Buffer, Compact);
            Writer.Reset(Buffer);
        }
    }
}
