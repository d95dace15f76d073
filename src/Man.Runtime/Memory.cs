using System.Runtime.InteropServices;

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
    /// <param name="thresholdBytes">Allocations of at least this size get their own mapping.</param>
    /// <param name="hugePages">Also call <see cref="UseTransparentHugePages"/>, so those mappings fault in 2 MiB at a time.</param>
    public static bool ReturnLargeBlocksToSystem(int thresholdBytes = 1 << 20, bool hugePages = true)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            if (mallopt(MMmapThreshold, thresholdBytes) != 1) return false;
            AllocatorPolicy = $"lean (blocks ≥ {thresholdBytes / 1024} KiB mapped and unmapped one by one)";
            if (hugePages && UseTransparentHugePages()) AllocatorPolicy += "; tensors ≥ 2 MiB on transparent huge pages";
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

    /// <summary>
    /// Asks libtorch's CPU allocator to align every tensor of at least 2 MiB to 2 MiB and advise the kernel to back it
    /// with transparent huge pages (libtorch's <c>THP_MEM_ALLOC_ENABLE=1</c>, set in the native environment, where
    /// libtorch reads it at its first allocation: call this before the first tensor is made). A freshly mapped tensor
    /// then faults in 2 MiB at a time instead of 4 KiB, which is most of what <see cref="ReturnLargeBlocksToSystem"/>
    /// costs (README: ResNet-101 e2e step 32–35 → 30 s, MAN++ K = 4 recomputing 43–47 → 38.3–38.9 s; peaks within 0.5 %).
    /// Does nothing and returns false where the kernel has transparent huge pages off ("never"), where this is not Linux,
    /// or where <c>THP_MEM_ALLOC_ENABLE</c> is already set (the user's value is kept; it returns whether that value is 1).
    /// </summary>
    public static bool UseTransparentHugePages()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            if (Marshal.PtrToStringAnsi(getenv(HugePagesVariable)) is string set) return set.Trim() == "1";
            const string mode = "/sys/kernel/mm/transparent_hugepage/enabled";
            if (!File.Exists(mode) || File.ReadAllText(mode).Contains("[never]", StringComparison.Ordinal)) return false;
            return setenv(HugePagesVariable, "1", 0) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>libtorch's switch for 2 MiB-aligned, huge-page-advised CPU tensors (c10/core/alloc_cpu.cpp).</summary>
    public const string HugePagesVariable = "THP_MEM_ALLOC_ENABLE";

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

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);

    [DllImport("libc", EntryPoint = "getenv")]
    private static extern IntPtr getenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

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
