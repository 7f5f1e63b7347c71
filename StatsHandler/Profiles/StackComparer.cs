using System.Runtime.InteropServices;

namespace StatsHandler;

/// <summary>
/// Compares stacks (arrays of addresses or ids) by content, so a dictionary keeps each distinct stack once; also looks
/// them up by a span, so a stack seen before is found without copying it.
/// </summary>
internal sealed class StackComparer : IEqualityComparer<ulong[]>, IAlternateEqualityComparer<ReadOnlySpan<ulong>, ulong[]>
{
    /// <summary>The one instance: the comparer has no state.</summary>
    public static readonly StackComparer Instance = new();

    /// <inheritdoc />
    public bool Equals(ulong[]? x, ulong[]? y) => x.AsSpan().SequenceEqual(y);

    /// <inheritdoc />
    public int GetHashCode(ulong[] obj) => GetHashCode((ReadOnlySpan<ulong>)obj);

    /// <inheritdoc />
    public bool Equals(ReadOnlySpan<ulong> alternate, ulong[] other) => alternate.SequenceEqual(other);

    /// <inheritdoc />
    public int GetHashCode(ReadOnlySpan<ulong> alternate)
    {
        var hash = new HashCode();
        hash.AddBytes(MemoryMarshal.AsBytes(alternate));
        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public ulong[] Create(ReadOnlySpan<ulong> alternate) => alternate.ToArray();
}
