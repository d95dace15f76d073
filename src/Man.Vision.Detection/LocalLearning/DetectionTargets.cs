using Man.Vision.Detection.Models;

namespace Man.Vision.Detection.LocalLearning;

/// <summary>
/// The target of a detection batch as the local-learning engine passes it to every head: the engine runs the
/// backbone units on the padded, normalised batch (from <see cref="GeneralizedRcnnTransform.Apply"/>), so boxes are in
/// batch pixels and the heads need the image sizes for clipping and RoI pooling.
/// </summary>
/// <param name="Targets">Per image, boxes <c>[N, 4]</c> xyxy in batch pixels and labels <c>[N]</c> int64 (N may be 0).</param>
/// <param name="ImageSizes">Per image, its size in the batch before padding.</param>
/// <param name="BatchSize">Height and width of the padded batch tensor.</param>
public sealed record DetectionTargets(IReadOnlyList<DetectionTarget> Targets, IReadOnlyList<ImageSize> ImageSizes, ImageSize BatchSize)
{
    /// <summary>Targets for a transformed batch.</summary>
    /// <param name="images">The batch from the transform.</param>
    /// <param name="targets">The targets from the transform (scaled to the batch).</param>
    public static DetectionTargets From(ImageList images, IReadOnlyList<DetectionTarget> targets)
    {
        if (targets.Count != images.ImageSizes.Count)
            throw new ArgumentException($"{targets.Count} targets for {images.ImageSizes.Count} images.", nameof(targets));
        return new DetectionTargets(targets, images.ImageSizes, images.BatchSize);
    }

    /// <summary>Number of images.</summary>
    public int Count => Targets.Count;
}
