using System.Diagnostics;
using Man.Vision.Data.Coco;
using Man.Vision.Data.DetectionTransforms;
using Man.Vision.Data.Loading;
using Man.Vision.Data.Segmentation;

namespace Man.Vision.Data.Batching;

/// <summary>
/// Measures how many images per second the loaders deliver (decode + augment + batch) with 1, 2, ... worker threads,
/// and whether a loader keeps ahead of a training step (<c>man-vision bench data</c>).
/// </summary>
public static class DataThroughput
{
    /// <summary>
    /// CamVid (label pngs): decode image and label, random scale (0.5–2) + crop <paramref name="crop"/>², flip, jitter,
    /// normalise, pad-batch. One result per worker count.
    /// </summary>
    public static IReadOnlyList<ThroughputResult> CamVid(string root, IReadOnlyList<int>? workers = null, int images = 64, int batchSize = 8,
        int crop = 320, double consumerStepMs = 0)
    {
        var ds = SegmentationReader.ReadCamVid(root, "train");
        var mapper = new SegmentationMapper(ds, SegmentationCompose.Train(crop, crop));
        return (workers ?? [1, 2]).Select(w =>
            Measure($"camvid train (crop {crop})", DataLoaders.Segmentation(mapper, Options(w, batchSize)), images, consumerStepMs)).ToArray();
    }

    /// <summary>
    /// COCO (tiny-coco or any instances json): decode, jitter, flip, resize to shorter side <paramref name="minSize"/>
    /// (max <paramref name="maxSize"/>), clip, normalise, pad-batch to a multiple of 32; optionally with masks.
    /// </summary>
    public static IReadOnlyList<ThroughputResult> Coco(string json, string imageDir, IReadOnlyList<int>? workers = null, int images = 64, int batchSize = 4,
        int minSize = 320, int maxSize = 512, bool masks = false, double consumerStepMs = 0)
    {
        var ds = CocoReader.Read(json, imageDir);
        var mapper = new DetectionMapper(ds, DetectionCompose.Train([minSize], maxSize, normalize: true), new DetectionMapperOptions(LoadMasks: masks));
        return (workers ?? [1, 2]).Select(w =>
            Measure($"{ds.Name} ({minSize}/{maxSize}{(masks ? ", masks" : "")})", DataLoaders.Detection(mapper, Options(w, batchSize)), images, consumerStepMs)).ToArray();
    }

    /// <summary>
    /// Runs <paramref name="loader"/> over as many epochs as needed to deliver <paramref name="images"/> images; the
    /// consumer optionally "trains" for <paramref name="consumerStepMs"/> per batch (a sleep, leaving the cores to the
    /// workers as a real step on another device would not; on a shared CPU use it to check the prefetch logic, not the cores).
    /// </summary>
    public static ThroughputResult Measure<TSample, TBatch>(string name, PrefetchLoader<TSample, TBatch> loader, int images, double consumerStepMs = 0)
        where TSample : class
        where TBatch : class, ILoaderBatch
    {
        ArgumentNullException.ThrowIfNull(loader);
        if (images <= 0) throw new ArgumentOutOfRangeException(nameof(images), images, "Measure at least one image.");
        // Warm-up (untimed): JIT, torch kernels and the worker threads' first allocations.
        foreach (var batch in loader.Epoch(int.MaxValue / 2))
        {
            batch.Dispose();
            break;
        }
        int delivered = 0, notReady = 0;
        double waited = 0;
        var clock = Stopwatch.StartNew();
        for (int epoch = 0; delivered < images; epoch++)
        {
            bool any = false;
            foreach (var batch in loader.Epoch(epoch))
            {
                using (batch)
                {
                    any = true;
                    delivered += batch is ICountedBatch c ? c.Count : loader.Options.BatchSize;
                    if (consumerStepMs > 0) Thread.Sleep(TimeSpan.FromMilliseconds(consumerStepMs));
                }
                if (delivered >= images) break;
            }
            var stats = loader.LastEpoch!;
            notReady += stats.NotReady;
            waited += stats.ConsumerWait.TotalSeconds;
            if (!any) throw new InvalidOperationException($"{name}: an epoch delivered no batch (every sample skipped?).");
        }
        return new ThroughputResult(name, loader.Options.Workers, delivered, clock.Elapsed.TotalSeconds, consumerStepMs, notReady, waited);
    }

    private static LoaderOptions Options(int workers, int batchSize) =>
        new() { Workers = workers, BatchSize = batchSize, Shuffle = true, Seed = 0, Prefetch = Math.Max(2, workers + 1) };
}
