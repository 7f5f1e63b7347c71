namespace StatsHandler.Tests.Support;

/// <summary>Resident set size of the test process, which hosts both the server and its clients.</summary>
internal static class ProcessMemory
{
    public static long ResidentBytes()
    {
        if (OperatingSystem.IsLinux())
        {
            string[] statm = File.ReadAllText("/proc/self/statm").Split(' ');
            return long.Parse(statm[1], System.Globalization.CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        }

        return Environment.WorkingSet;
    }

    /// <summary>Collects garbage and then reads RSS, so managed garbage does not count as a leak.</summary>
    public static long SettledResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return ResidentBytes();
    }

    public static string Mb(long bytes) => $"{bytes / (1024.0 * 1024):F1} MB";
}
