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

    /// <summary>
    /// Makes glibc serve every allocation of at least <paramref name="thresholdBytes"/> with its own mapping and
    /// unmap it on free (a fixed <c>M_MMAP_THRESHOLD</c>), so that tensor memory freed by one local block goes back
    /// to the system before the next block runs and RSS follows the live working set. Without it glibc keeps
    /// freed tensor memory in fragmented heaps (measured here: ResNet-32 e2e peak 846 MiB vs 508 MiB with it).
    /// Returns false where this is not glibc on Linux. The CLI calls it at start; library users may.
    /// </summary>
    public static bool ReturnLargeBlocksToSystem(int thresholdBytes = 1 << 20)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            if (mallopt(MMmapThreshold, thresholdBytes) != 1) return false;
            AllocatorPolicy = $"lean (blocks ≥ {thresholdBytes / 1024} KiB mapped and unmapped one by one)";
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// Keeps glibc's own (fast, dynamic) allocation policy and returns freed heap memory to the system at block
    /// boundaries instead: from this call on <see cref="ReleaseFreed"/>, which the local-learning engine calls after
    /// every block and at the end of each step, runs <see cref="TrimNow"/>. Tensor memory is reused inside a block
    /// without new page faults (the fixed mmap threshold of <see cref="ReturnLargeBlocksToSystem"/> maps, faults in
    /// and zeroes every large tensor afresh), and the memory a finished block held still goes back before the next
    /// block runs. Returns false where this is not glibc on Linux.
    /// </summary>
    public static bool TrimAtBlockBoundaries()
    {
        if (!TrimNow()) return false;
        trim = true;
        AllocatorPolicy = "trim (glibc's default, heap trimmed after every block)";
        return true;
    }

    /// <summary>The allocation policy chosen in this process, for reports.</summary>
    public static string AllocatorPolicy { get; private set; } = "glibc's default";

    /// <summary>
    /// Called by the engine where a block's tensors have just been freed: returns free heap memory to the system
    /// when <see cref="TrimAtBlockBoundaries"/> is in effect, otherwise does nothing.
    /// </summary>
    public static void ReleaseFreed()
    {
        if (trim) TrimNow();
    }

    /// <summary>
    /// Returns the free memory of every glibc arena to the system now (<c>malloc_trim(0)</c>: the heap top is cut and
    /// whole free pages inside the heaps are released). Returns false where this is not glibc on Linux.
    /// </summary>
    public static bool TrimNow()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            malloc_trim(0);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private static volatile bool trim;

    private const int MMmapThreshold = -3;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);

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
