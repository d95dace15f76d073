using Man.Vision.Data.Diagnostics;

namespace Man.Vision.Data.Records;

/// <summary>The records of a detection (or instance segmentation) data set as a format reader produced them.</summary>
/// <param name="Name">A short name (e.g. "coco:instances_val2017", "voc:trainval").</param>
/// <param name="Categories">Category ids ↔ labels.</param>
/// <param name="Images">The images in file order; negatives (no objects) included.</param>
/// <param name="Log">Repairs and skips made while reading, with the policy used.</param>
public sealed record DetectionDataset(string Name, CategoryMap Categories, IReadOnlyList<ImageRecord> Images, BadInputLog Log)
{
    /// <summary>The total number of annotated objects.</summary>
    public int ObjectCount => Images.Sum(i => i.Objects.Count);
}
