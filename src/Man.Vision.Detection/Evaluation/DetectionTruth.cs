using Man.Vision.Data.Masks;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Evaluation;

/// <summary>
/// The ground truth of one image as the detection evaluators take it from a runner (torchvision's target dict:
/// <c>image_id</c>, <c>boxes</c>, <c>labels</c>, <c>iscrowd</c>, <c>area</c>, plus VOC's <c>difficult</c>).
/// </summary>
public sealed class DetectionTruth
{
    /// <summary>Creates the ground truth of one image; arrays are kept, not copied.</summary>
    /// <param name="imageId">The image's id (COCO <c>image_id</c>; any unique number for other data sets).</param>
    /// <param name="boxes">Boxes <c>[N, 4]</c> flattened row-major, xyxy in pixels, finite, <c>x2 ≥ x1</c>, <c>y2 ≥ y1</c>.</param>
    /// <param name="labels">Labels <c>[N]</c>.</param>
    /// <param name="isCrowd">Crowd flags <c>[N]</c> (COCO), or null for none.</param>
    /// <param name="areas">Object areas <c>[N]</c> (COCO's <c>area</c>, usually the segment area), or null to use the box areas.</param>
    /// <param name="difficult">VOC difficult flags <c>[N]</c>, or null for none.</param>
    /// <param name="masks">Object masks <c>[N]</c> (image-sized, run-length encoded) for mask evaluation, or null.</param>
    /// <exception cref="ArgumentException">Lengths disagree or a box or area is invalid.</exception>
    public DetectionTruth(long imageId, float[] boxes, long[] labels, bool[]? isCrowd = null, float[]? areas = null, bool[]? difficult = null,
        Rle[]? masks = null)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        ArgumentNullException.ThrowIfNull(labels);
        int n = labels.Length;
        string who = $"The ground truth of image {imageId}";
        if (boxes.Length != 4 * n)
            throw new ArgumentException($"{who} has {n} labels but {boxes.Length} box values (expected [N, 4] = {4 * n}).", nameof(boxes));
        if (isCrowd is not null && isCrowd.Length != n)
            throw new ArgumentException($"{who} has {n} labels but {isCrowd.Length} crowd flags.", nameof(isCrowd));
        if (areas is not null && areas.Length != n)
            throw new ArgumentException($"{who} has {n} labels but {areas.Length} areas.", nameof(areas));
        if (difficult is not null && difficult.Length != n)
            throw new ArgumentException($"{who} has {n} labels but {difficult.Length} difficult flags.", nameof(difficult));
        if (masks is not null && masks.Length != n)
            throw new ArgumentException($"{who} has {n} labels but {masks.Length} masks.", nameof(masks));
        BoxChecks.CheckXyxy(boxes, $"{who}: box");
        if (areas is not null)
            for (int i = 0; i < n; i++)
                if (!float.IsFinite(areas[i]) || areas[i] < 0)
                    throw new ArgumentException($"{who}: object {i} has an invalid area {areas[i]}.", nameof(areas));
        ImageId = imageId;
        Boxes = boxes;
        Labels = labels;
        IsCrowd = isCrowd;
        Areas = areas;
        Difficult = difficult;
        Masks = masks;
    }

    /// <summary>The image id.</summary>
    public long ImageId { get; }

    /// <summary>Boxes <c>[N, 4]</c> flattened, xyxy.</summary>
    public float[] Boxes { get; }

    /// <summary>Labels <c>[N]</c>.</summary>
    public long[] Labels { get; }

    /// <summary>Crowd flags <c>[N]</c> or null.</summary>
    public bool[]? IsCrowd { get; }

    /// <summary>Areas <c>[N]</c> or null.</summary>
    public float[]? Areas { get; }

    /// <summary>Difficult flags <c>[N]</c> or null.</summary>
    public bool[]? Difficult { get; }

    /// <summary>Masks <c>[N]</c> or null.</summary>
    public Rle[]? Masks { get; }

    /// <summary>The number of objects N.</summary>
    public int Count => Labels.Length;

    /// <summary>Copies tensors (any device, any numeric type) into a <see cref="DetectionTruth"/>.</summary>
    /// <param name="imageId">The image's id.</param>
    /// <param name="boxes"><c>[N, 4]</c> xyxy.</param>
    /// <param name="labels"><c>[N]</c> integer labels.</param>
    /// <param name="isCrowd"><c>[N]</c> crowd flags (0/1 or bool), optional.</param>
    /// <param name="areas"><c>[N]</c> areas, optional.</param>
    /// <param name="difficult"><c>[N]</c> difficult flags, optional.</param>
    /// <param name="masks"><c>[N, H, W]</c> 0/1 masks, optional (floating-point masks: foreground where &gt; 0.5).</param>
    public static DetectionTruth FromTensors(long imageId, Tensor boxes, Tensor labels, Tensor? isCrowd = null, Tensor? areas = null, Tensor? difficult = null,
        Tensor? masks = null)
    {
        using var scope = NewDisposeScope();
        return new DetectionTruth(imageId, TensorArrays.Boxes(boxes, "boxes"), TensorArrays.Longs(labels),
            isCrowd is null ? null : TensorArrays.Flags(isCrowd), areas is null ? null : TensorArrays.Floats(areas),
            difficult is null ? null : TensorArrays.Flags(difficult), masks is null ? null : TensorArrays.Masks(masks, 0.5));
    }
}
