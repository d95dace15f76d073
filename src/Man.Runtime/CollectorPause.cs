using System.Runtime;

namespace Man.Runtime;

/// <summary>
/// Keeps the .NET garbage collector out of a stretch of tensor work (a training step), so that no temporary TorchSharp
/// scalar created there is finalized while native code still reads it.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 turns every .NET number passed to a tensor operation into a native scalar owned only by a
/// finalizable object, also inside TorchSharp's own modules and optimizers (batch norm's <c>num_batches_tracked.add_(1)</c>,
/// SGD's <c>alpha</c>s), and does not keep that object alive during the native call. A collection started by another
/// thread (a data loader decoding images) can then free the scalar mid-call: seen as "argument alpha must not be a
/// floating point number" in batch norm's step counter, and a freed scalar reused by another value of the same type would
/// pass unnoticed. <see cref="Enter"/> starts a no-GC region (<see cref="GC.TryStartNoGCRegion(long)"/>): its full
/// collection runs on the calling thread before the work, while that thread is in no native call; within the region no
/// collection runs unless the process allocates more than the budget, so no scalar created inside it is finalized before
/// the region ends and its native calls have returned. Regions nest and are shared across threads (the first
/// <see cref="Enter"/> starts one, the last dispose ends it). <c>MAN_GC_PAUSE=0</c> turns it off.
/// </remarks>
public static class CollectorPause
{
    /// <summary>Bytes the process may allocate inside a region before the collector runs anyway (256 MiB).</summary>
    public const long DefaultBudgetBytes = 256L << 20;

    private static readonly object Gate = new();
    private static int depth;
    private static bool ownsRegion;
    private static long started, broken;

    /// <summary>False when <c>MAN_GC_PAUSE=0</c>.</summary>
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable("MAN_GC_PAUSE") != "0";

    /// <summary>No-GC regions started so far.</summary>
    public static long RegionsStarted => Interlocked.Read(ref started);

    /// <summary>Regions that a collection ended early (the budget was exceeded); their work was not protected throughout.</summary>
    public static long RegionsBroken => Interlocked.Read(ref broken);

    /// <summary>Enters the pause; dispose the result to leave it.</summary>
    /// <param name="budgetBytes">Allocation budget of a new region.</param>
    public static IDisposable Enter(long budgetBytes = DefaultBudgetBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(budgetBytes);
        lock (Gate)
        {
            if (depth++ == 0 && Enabled && GCSettings.LatencyMode != GCLatencyMode.NoGCRegion)
            {
                try
                {
                    ownsRegion = GC.TryStartNoGCRegion(budgetBytes);
                    if (ownsRegion) started++;
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
                {
                    ownsRegion = false; // a region started elsewhere, or a budget the runtime refuses: run unprotected
                }
            }
        }
        return new Releaser();
    }

    private static void Leave()
    {
        lock (Gate)
        {
            if (--depth > 0 || !ownsRegion) return;
            ownsRegion = false;
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
            {
                try
                {
                    GC.EndNoGCRegion();
                    return;
                }
                catch (InvalidOperationException)
                {
                    // A collection was induced or the budget exceeded after all.
                }
            }
            broken++;
        }
    }

    private sealed class Releaser : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0) Leave();
        }
    }
}
