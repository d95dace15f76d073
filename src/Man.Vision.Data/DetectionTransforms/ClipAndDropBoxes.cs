using Man.Vision.Data.Records;

namespace Man.Vision.Data.DetectionTransforms;

/// <summary>Clips boxes to the image and drops boxes narrower or lower than <see cref="MinSize"/> (torchvision's
/// <c>clip_boxes_to_image</c> + <c>remove_small_boxes</c>), with their labels, masks and flags.</summary>
public sealed class ClipAndDropBoxes : IDetectionTransform
{
    /// <summary>Creates the transform; <paramref name="minSize"/> 0 drops only boxes with no area.</summary>
    public ClipAndDropBoxes(double minSize = 0)
    {
        if (minSize < 0) throw new ArgumentOutOfRangeException(nameof(minSize), minSize, "The minimum box size must be non-negative.");
        MinSize = minSize;
    }

    /// <summary>The minimum width and height a kept box has (besides being positive).</summary>
    public double MinSize { get; }

    /// <inheritdoc/>
    public DetectionSample Apply(DetectionSample sample, Random random)
    {
        var t = sample.Target;
        var clipped = BoxGeometry.Clip(t.Boxes, sample.Height, sample.Width);
        var keep = BoxGeometry.NonDegenerate(clipped, MinSize);
        var target = t.With(clipped);
        if (keep.all().item<bool>()) return sample with { Target = target };
        return sample with { Target = target.Select(keep) };
    }
}
