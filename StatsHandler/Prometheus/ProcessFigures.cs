namespace StatsHandler;

/// <summary>
/// Figures the Prometheus output needs beyond the snapshot: file descriptors, and collections of exactly each
/// generation, kept from ever going down (the runtime's counts are read one after the other, not atomically).
/// </summary>
internal readonly record struct ProcessFigures(
    bool HasFileDescriptors,
    long OpenFileDescriptors,
    long MaxFileDescriptors,
    long Gen0Collections,
    long Gen1Collections,
    long Gen2Collections);
