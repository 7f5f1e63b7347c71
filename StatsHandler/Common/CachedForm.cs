namespace StatsHandler;

/// <summary>
/// What a format made of <paramref name="Source"/> (its bytes, say), valid while the source is the same instance: a
/// format keeps the last one to skip the work until its source is replaced.
/// </summary>
internal sealed record CachedForm<TSource, TForm>(TSource Source, TForm Form)
    where TSource : class;
