namespace Man.Vision.Data.Batching;

/// <summary>One data-throughput measurement (decode + augment + batch).</summary>
/// <param name="Dataset">What was loaded.</param>
/// <param name="Workers">Loader worker threads.</param>
/// <param name="Images">Images delivered.</param>
/// <param name="Seconds">Wall time from the first request to the last batch.</param>
/// <param name="ConsumerStepMs">The simulated training step per batch (0: the consumer takes batches as fast as it can).</param>
/// <param name="NotReady">Batches that were not ready when the consumer asked (the first one included).</param>
/// <param name="ConsumerWaitSeconds">Total time the consumer waited for data.</param>
public sealed record ThroughputResult(string Dataset, int Workers, int Images, double Seconds, double ConsumerStepMs, int NotReady, double ConsumerWaitSeconds)
{
    /// <summary>Images per second of wall time.</summary>
    public double ImagesPerSecond => Seconds > 0 ? Images / Seconds : 0;

    /// <inheritdoc/>
    public override string ToString()
    {
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        string line = string.Format(ci, "{0,-36} workers {1}: {2,7:0.0} images/s ({3} images in {4:0.00} s)", Dataset, Workers, ImagesPerSecond, Images, Seconds);
        if (ConsumerStepMs > 0)
            line += string.Format(ci, ", step {0:0} ms: waited {1:0.00} s, {2} batch(es) not ready", ConsumerStepMs, ConsumerWaitSeconds, NotReady);
        return line;
    }
}
