using Man.Vision.Data.DetectionTransforms;
using Man.Vision.Data.Loading;

namespace Man.Vision.Data.Batching;

/// <summary>
/// Prefetching loaders for detection and segmentation: a mapper per sample, padding collate, seeded order and
/// background workers (<see cref="PrefetchLoader{TSample, TBatch}"/>).
/// </summary>
public static class DataLoaders
{
    /// <summary>A detection loader; samples the mapper skips (bad input under OnBad.Skip) are left out of their batch.</summary>
    public static PrefetchLoader<Records.DetectionSample, DetectionBatch> Detection(DetectionMapper mapper, LoaderOptions options, int divisor = BatchPadding.DefaultDivisor)
    {
        ArgumentNullException.ThrowIfNull(mapper);
        return new PrefetchLoader<Records.DetectionSample, DetectionBatch>(
            mapper.Count, (i, ctx) => mapper.Map(i, ctx.Random), (samples, _) => DetectionBatch.Collate(samples, divisor), options);
    }

    /// <summary>A segmentation loader.</summary>
    public static PrefetchLoader<Records.SegmentationSample, SegmentationBatch> Segmentation(SegmentationMapper mapper, LoaderOptions options, int divisor = BatchPadding.DefaultDivisor)
    {
        ArgumentNullException.ThrowIfNull(mapper);
        return new PrefetchLoader<Records.SegmentationSample, SegmentationBatch>(
            mapper.Count, (i, ctx) => mapper.Map(i, ctx.Random), (samples, _) => SegmentationBatch.Collate(samples, divisor), options);
    }
}
