namespace Man.Runtime;

/// <summary>Process memory readings (Linux <c>/proc/self/status</c>).</summary>
public static class Memory
{
    /// <summary>Peak resident set size of this process in MiB (VmHWM), or NaN where not available.</summary>
    public static double PeakRssMiB() => Read("VmHWM:");

    /// <summary>Current resident set size of this process in MiB (VmRSS), or NaN where not available.</summary>
    public static double CurrentRssMiB() => Read("VmRSS:");

    /// <summary>
    /// Resets the peak (VmHWM) to the current RSS by writing 5 to <c>/proc/self/clear_refs</c>; returns false
    /// where the kernel does not allow it.
    /// </summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static double Read(string key)
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return double.NaN;
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith(key, StringComparison.Ordinal)) continue;
            var parts = line[key.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return double.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        }
        return double.NaN;
    }
}
