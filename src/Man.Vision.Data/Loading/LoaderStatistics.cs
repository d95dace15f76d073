namespace Man.Vision.Data.Loading;

/// <summary>How an epoch of a <see cref="PrefetchLoader{TSample, TBatch}"/> went.</summary>
/// <param name="Batches">Batches handed to the consumer.</param>
/// <param name="Samples">Samples in those batches.</param>
/// <param name="Skipped">Samples the sample function left out (returned null under <c>OnBad.Skip</c>).</param>
/// <param name="NotReady">Batches that were not ready when the consumer asked for them (the first one always counts
/// unless it was built before the consumer asked). A loader that keeps ahead has 1 or 0.</param>
/// <param name="ConsumerWait">Total time the consumer waited for batches.</param>
/// <param name="WorkerBusy">Total time workers spent building batches (summed over workers).</param>
/// <param name="Elapsed">Wall time from the start of the epoch to its last batch.</param>
public sealed record LoaderStatistics(int Batches, int Samples, int Skipped, int NotReady, TimeSpan ConsumerWait, TimeSpan WorkerBusy, TimeSpan Elapsed)
{
    /// <summary>Samples per second of wall time (0 before anything was delivered).</summary>
    public double SamplesPerSecond => Elapsed > TimeSpan.Zero ? Samples / Elapsed.TotalSeconds : 0;
}
