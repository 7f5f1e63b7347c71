using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace StatsHandler;

/// <summary>
/// The Diagnostics IPC protocol's messages: a 20-byte header (<c>DOTNET_IPC_V1\0</c>, u16 total size, u8 command set,
/// u8 command id, u16 reserved) and a little-endian payload; strings are a u32 count of UTF-16 units with the
/// terminator, then the units (dotnet/diagnostics <c>documentation/design-docs/ipc-protocol.md</c>).
/// </summary>
internal static class DiagnosticIpc
{
    /// <summary>The EventPipe command set.</summary>
    public const byte EventPipe = 0x02;

    /// <summary>The server's command set: replies.</summary>
    public const byte Server = 0xFF;

    /// <summary>The reply's command id for success.</summary>
    public const byte Ok = 0x00;

    /// <summary>The reply's command id for an error, whose payload is an HRESULT.</summary>
    public const byte Error = 0xFF;

    /// <summary>The HRESULT for a command the runtime does not know.</summary>
    public const int UnknownCommand = unchecked((int)0x80131385);

    /// <summary>The HRESULT for a payload the runtime could not parse.</summary>
    public const int BadEncoding = unchecked((int)0x80131384);

    private const int HeaderSize = 20;
    private static readonly byte[] Magic = "DOTNET_IPC_V1\0"u8.ToArray();

    /// <summary>Sends one message.</summary>
    /// <exception cref="ArgumentException">The payload is larger than a message can carry (65,515 bytes).</exception>
    public static void Send(Stream stream, byte commandSet, byte commandId, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > ushort.MaxValue - HeaderSize)
        {
            throw new ArgumentException($"A diagnostic message carries at most {ushort.MaxValue - HeaderSize} bytes; this one has {payload.Length}.", nameof(payload));
        }

        byte[] message = new byte[HeaderSize + payload.Length];
        Magic.CopyTo(message, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(14), (ushort)message.Length);
        message[16] = commandSet;
        message[17] = commandId;
        payload.CopyTo(message.AsSpan(HeaderSize));
        stream.Write(message);
        stream.Flush();
    }

    /// <summary>Reads one reply: its command set, command id and payload.</summary>
    /// <exception cref="IOException">The connection closed first, or the bytes are not a reply of this protocol.</exception>
    public static (byte CommandSet, byte CommandId, byte[] Payload) Receive(Stream stream)
    {
        byte[] header = new byte[HeaderSize];
        stream.ReadExactly(header);
        if (!header.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new IOException("The diagnostic port answered with bytes that are not a DOTNET_IPC_V1 message.");
        }

        int size = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(14));
        if (size < HeaderSize)
        {
            throw new IOException($"The diagnostic port answered with a message of {size} bytes, less than its header.");
        }

        byte[] payload = new byte[size - HeaderSize];
        stream.ReadExactly(payload);
        return (header[16], header[17], payload);
    }

    /// <summary>Builds a payload field by field, little-endian.</summary>
    internal sealed class PayloadWriter
    {
        private readonly ArrayBufferWriter<byte> _bytes = new(256);

        public PayloadWriter UInt32(uint value)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_bytes.GetSpan(4), value);
            _bytes.Advance(4);
            return this;
        }

        public PayloadWriter UInt64(ulong value)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_bytes.GetSpan(8), value);
            _bytes.Advance(8);
            return this;
        }

        public PayloadWriter Bool(bool value)
        {
            _bytes.Write<byte>([value ? (byte)1 : (byte)0]);
            return this;
        }

        /// <summary>A string as the protocol has it: UTF-16 units with a terminator, or length 0 for null or empty.</summary>
        public PayloadWriter String(string? value)
        {
            if (string.IsNullOrEmpty(value))
            {
                return UInt32(0);
            }

            UInt32((uint)value.Length + 1);
            _bytes.Write(Encoding.Unicode.GetBytes(value));
            _bytes.Write<byte>([0, 0]);
            return this;
        }

        public byte[] ToArray() => _bytes.WrittenSpan.ToArray();
    }
}
