namespace StatsHandler;

/// <summary>
/// Figures the Prometheus output needs beyond the snapshot: collections of exactly each generation, kept from ever
/// going down (the runtime's counts are read one after the other, not atomically).
/// </summary>
internal readonly record struct ProcessFigures(
    long Gen0Collections,
    long Gen1Collections,
    long Gen2Collections);
