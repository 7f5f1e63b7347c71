using System.Buffers.Binary;

namespace StatsHandler;

/// <summary>
/// An EventPipe session on this process's own diagnostic port: started with the newest <c>CollectTracing</c> command
/// the runtime accepts, its nettrace stream read from <see cref="Stream"/>, stopped with <c>StopTracing</c> on a
/// second connection.
/// </summary>
/// <remarks>
/// <para>Whoever reads <see cref="Stream"/> must keep reading it until it ends, including while <see cref="Stop"/> runs:
/// the runtime writes the session's last events (and its rundown) before it answers the stop, and blocks writing them
/// when nobody reads (dotnet/diagnostics#5628). So never call <see cref="Stop"/> from the reading thread.</para>
/// <para>Versions: <c>CollectTracing5</c> (.NET 10: event-id filters), then 4 (.NET 9: rundown keywords), 3 (no stack
/// walk), 2 (stack walk always on); an older runtime answers a newer command with an error and the next is tried. On a
/// runtime without filters the events are filtered by the reader instead.</para>
/// </remarks>
internal sealed class EventPipeSession : IDisposable
{
    private const byte StopTracing = 0x01;
    private const uint NetTraceFormat = 1;

    // Command ids, newest first: CollectTracing5, 4, 3, 2.
    private static readonly byte[] Versions = [0x06, 0x05, 0x04, 0x03];

    private readonly TimeSpan _timeout;
    private int _stopped;

    private EventPipeSession(ulong id, int version, Stream stream, TimeSpan timeout)
    {
        Id = id;
        CommandVersion = version;
        Stream = stream;
        _timeout = timeout;
    }

    /// <summary>The session's id, as the runtime numbers it.</summary>
    public ulong Id { get; }

    /// <summary>Which <c>CollectTracing</c> the runtime accepted: 5, 4, 3 or 2.</summary>
    public int CommandVersion { get; }

    /// <summary>Whether the runtime applies the providers' event-id filters itself (<c>CollectTracing5</c> and later).</summary>
    public bool FiltersEventIds => CommandVersion >= 5;

    /// <summary>The nettrace stream, from its <c>Nettrace</c> magic on; it ends after <see cref="Stop"/>.</summary>
    public Stream Stream { get; }

    /// <summary>Starts a session with the newest command the runtime accepts.</summary>
    /// <exception cref="IOException">The port is missing, or the runtime refused every version; the message says why.</exception>
    public static EventPipeSession Start(EventPipeSessionOptions options, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(options);
        int lastError = 0;
        foreach (byte command in Versions)
        {
            Stream stream = DiagnosticPort.Connect(timeout);
            try
            {
                DiagnosticIpc.Send(stream, DiagnosticIpc.EventPipe, command, Payload(options, command));
                (byte set, byte id, byte[] reply) = Receive(stream, timeout);
                if (set == DiagnosticIpc.Server && id == DiagnosticIpc.Ok && reply.Length >= 8)
                {
                    return new EventPipeSession(BinaryPrimitives.ReadUInt64LittleEndian(reply), command - 1, stream, timeout);
                }

                lastError = set == DiagnosticIpc.Server && id == DiagnosticIpc.Error && reply.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(reply) : 0;
                stream.Dispose();
                if (lastError is not (DiagnosticIpc.UnknownCommand or DiagnosticIpc.BadEncoding))
                {
                    break;
                }
            }
            catch
            {
                stream.Dispose();
                throw;
            }
        }

        throw new IOException($"The runtime refused to start an EventPipe session (error 0x{lastError:X8}).");
    }

    /// <summary>
    /// Asks the runtime to end the session, on a connection of its own, and waits (bounded) for its answer. The stream
    /// then ends once the runtime has written the rest. Idempotent; never throws.
    /// </summary>
    /// <returns>True when the runtime confirmed the stop.</returns>
    public bool Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return true;
        }

        try
        {
            using Stream control = DiagnosticPort.Connect(_timeout);
            Span<byte> id = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(id, Id);
            DiagnosticIpc.Send(control, DiagnosticIpc.EventPipe, StopTracing, id);
            (byte set, byte command, _) = Receive(control, _timeout);
            return set == DiagnosticIpc.Server && command == DiagnosticIpc.Ok;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or TimeoutException)
        {
            return false;
        }
    }

    /// <summary>How long a stream may go on after <see cref="Stop"/> (the runtime's last buffers and rundown) before <see cref="StopAndDrain"/> closes it.</summary>
    public static readonly TimeSpan DrainBound = TimeSpan.FromSeconds(30);

    /// <summary>Reads <see cref="Stream"/> into <paramref name="sink"/> to its end, on a thread of its own.</summary>
    /// <returns>The reading; it faults with the reader's exception (<see cref="InvalidDataException"/> for a broken stream).</returns>
    public Task ReadInBackground(INetTraceSink sink)
    {
        var reader = new NetTraceReader(Stream, sink);
        return Task.Factory.StartNew(reader.ReadToEnd, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>
    /// Stops the session from the calling thread (never the reader's: see the remarks) and waits for
    /// <paramref name="reading"/> to end, at most <see cref="DrainBound"/>; then closes the stream, which ends the reader,
    /// and waits once more, bounded. Never throws.
    /// </summary>
    /// <returns>True when the reading ended.</returns>
    public bool StopAndDrain(Task reading)
    {
        Stop();
        if (Task.WaitAny([reading], DrainBound) >= 0)
        {
            return true;
        }

        Stream.Dispose();
        return Task.WaitAny([reading], DrainBound) >= 0;
    }

    /// <summary>Stops the session (bounded) and closes its stream, which ends it for certain: the runtime's next write fails.</summary>
    public void Dispose()
    {
        Stop();
        Stream.Dispose();
    }

    private static (byte, byte, byte[]) Receive(Stream stream, TimeSpan timeout)
    {
        if (stream.CanTimeout)
        {
            stream.ReadTimeout = (int)timeout.TotalMilliseconds;
        }

        var reply = DiagnosticIpc.Receive(stream);
        if (stream.CanTimeout)
        {
            stream.ReadTimeout = Timeout.Infinite;
        }

        return reply;
    }

    private static byte[] Payload(EventPipeSessionOptions options, byte command)
    {
        var p = new DiagnosticIpc.PayloadWriter();
        if (command >= 0x06)
        {
            p.UInt32(0); // a streaming session, not user_events
        }

        p.UInt32((uint)options.BufferMegabytes).UInt32(NetTraceFormat);
        if (command >= 0x05)
        {
            p.UInt64(options.RundownKeyword).Bool(options.StackWalk);
        }
        else
        {
            p.Bool(options.RundownKeyword != 0);
            if (command == 0x04)
            {
                p.Bool(options.StackWalk);
            }
        }

        p.UInt32((uint)options.Providers.Length);
        foreach (EventPipeProvider provider in options.Providers)
        {
            p.UInt64(provider.Keywords).UInt32((uint)provider.Level).String(provider.Name).String(provider.Arguments);
            if (command >= 0x06)
            {
                // An enable list when the provider has one; "disable nothing" otherwise.
                int[] ids = provider.EventIds ?? [];
                p.Bool(provider.EventIds is not null).UInt32((uint)ids.Length);
                foreach (int eventId in ids)
                {
                    p.UInt32((uint)eventId);
                }
            }
        }

        return p.ToArray();
    }
}
