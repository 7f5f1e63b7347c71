using System.Buffers;
using System.Net;

namespace StatsHandler;

/// <summary>
/// An output format: writes a <see cref="StatsSnapshot"/> as bytes. Implement it to serve the statistics in a format of
/// your own (InfluxDB line protocol, say) and mount it with <see cref="StatsServer.Handle(string, IStatsWriter)"/>: the
/// server captures one snapshot per request from its <see cref="StatsServer.Source"/>, as it does for the built-in
/// formats, and sends what <see cref="Write"/> wrote with an exact <c>Content-Length</c>.
/// </summary>
/// <remarks>
/// A writer is a function of the snapshot: it reads no runtime API and calls no callback (the capture did, once, and
/// reported their errors). It may keep what it encodes once (names, labels) in its own tables, keyed by
/// <see cref="InstrumentSnapshot.Instrument"/> or <see cref="SeriesSnapshot.Tags"/>; it is called concurrently, so
/// such tables must be thread-safe (<see cref="System.Runtime.CompilerServices.ConditionalWeakTable{TKey, TValue}"/> is).
/// </remarks>
public interface IStatsWriter
{
    /// <summary>Writes <paramref name="snapshot"/> into <paramref name="body"/> and returns the response's <c>Content-Type</c>.</summary>
    /// <param name="snapshot">What to write; valid only during this call.</param>
    /// <param name="request">The request, for a writer that offers variants (by its <c>Accept</c> header or its query).</param>
    /// <param name="body">Where to write the response body.</param>
    /// <returns>The media type of what was written, such as <c>text/plain; charset=utf-8</c>.</returns>
    string Write(StatsSnapshot snapshot, HttpListenerRequest request, IBufferWriter<byte> body);
}
