using Man.Vision.Data.Records;
using Man.Vision.Data.Segmentation;

namespace Man.Vision.Data.Stats;

/// <summary>Statistics of detection and segmentation data sets (the <c>man-vision data stats</c> numbers).</summary>
public static class DataStats
{
    /// <summary>COCO's small/medium bound: 32².</summary>
    public const double SmallArea = 32 * 32;

    /// <summary>COCO's medium/large bound: 96².</summary>
    public const double LargeArea = 96 * 96;

    /// <summary>Counts images, objects per class, image sizes and objects by COCO size range.</summary>
    public static DetectionStatistics Compute(DetectionDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var objs = dataset.Images.SelectMany(i => i.Objects).ToArray();
        var perClass = dataset.Categories.Categories.Select((c, i) => new ClassCount(i + 1, c.Name,
            objs.Count(o => o.Label == i + 1), dataset.Images.Count(img => img.Objects.Any(o => o.Label == i + 1)))).ToArray();
        return new DetectionStatistics(dataset.Name, dataset.Images.Count, dataset.Images.Count(i => i.Objects.Count == 0), objs.Length,
            objs.Count(o => o.IsCrowd), objs.Count(o => o.Difficult), perClass,
            ImageSizeSummary.Of(dataset.Images.Select(i => (i.Width, i.Height)).ToArray()),
            objs.Count(o => o.Area < SmallArea), objs.Count(o => o.Area >= SmallArea && o.Area <= LargeArea), objs.Count(o => o.Area > LargeArea),
            dataset.Log.ToString());
    }

    /// <summary>Reads the label images (all, or the first <paramref name="maxImages"/>) and counts pixels per class.</summary>
    /// <remarks>Bad label images follow the data set's policy (fail, or skip and count).</remarks>
    public static SegmentationStatistics Compute(SegmentationDataset dataset, int maxImages = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        int c = dataset.NumClasses;
        var pixels = new long[256];
        var images = new int[256];
        var sizes = new List<(int, int)>();
        int read = 0;
        for (int i = 0; i < dataset.Samples.Count && read < maxImages; i++)
        {
            LabelMap map;
            try { map = dataset.ReadLabels(i); }
            catch (Diagnostics.BadInputException e) { dataset.Log.Handle(e); continue; }
            read++;
            sizes.Add((map.Width, map.Height));
            var counts = new long[256];
            foreach (byte v in map.Ids) counts[v]++;
            for (int v = 0; v < 256; v++)
            {
                pixels[v] += counts[v];
                if (counts[v] > 0) images[v]++;
            }
        }
        var perClass = Enumerable.Range(0, c).Select(k => new ClassPixels(k, dataset.Encoding.ClassNames[k], pixels[k], images[k])).ToArray();
        return new SegmentationStatistics(dataset.Name, dataset.Samples.Count, read, perClass, pixels[LabelEncoding.Ignore], ImageSizeSummary.Of(sizes), dataset.Log.ToString());
    }
}
