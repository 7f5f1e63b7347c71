namespace StatsHandler;

/// <summary>What an EventPipe session on the own port records.</summary>
/// <param name="Providers">The providers to enable, at least one.</param>
/// <param name="RundownKeyword">
/// The rundown provider's keywords at the session's end (method and module names, so stacks resolve), or 0 for no
/// rundown: <see cref="DefaultRundown"/> is what dotnet-trace asks for.
/// </param>
/// <param name="StackWalk">Whether every event carries the stack of the thread that wrote it.</param>
/// <param name="BufferMegabytes">The runtime's buffer for the session; events beyond it are dropped, never blocked on.</param>
internal sealed record EventPipeSessionOptions(EventPipeProvider[] Providers, ulong RundownKeyword, bool StackWalk, int BufferMegabytes = 16)
{
    /// <summary>The rundown keywords the runtime uses when a client asks for rundown without naming keywords.</summary>
    public const ulong DefaultRundown = 0x80020139;
}
