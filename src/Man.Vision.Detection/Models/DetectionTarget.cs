using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Models;

/// <summary>
/// The ground truth of one image (torchvision's target dict): <c>boxes</c> and <c>labels</c>. An image without
/// objects has zero boxes; it trains the detectors' background and gives zero box losses.
/// </summary>
public sealed record DetectionTarget
{
    /// <summary>Creates a target, checking shapes and types.</summary>
    /// <param name="boxes">Boxes <c>[N, 4]</c> xyxy in pixels of the image as given (float32).</param>
    /// <param name="labels">Class of each box <c>[N]</c> (int64), 1..numClasses−1 (0 is the background).</param>
    public DetectionTarget(Tensor boxes, Tensor labels)
    {
        if (boxes.dim() != 2 || boxes.shape[1] != 4)
            throw new ArgumentException($"Target boxes must be [N, 4] (xyxy), got [{string.Join(", ", boxes.shape)}].", nameof(boxes));
        if (!boxes.is_floating_point())
            throw new ArgumentException($"Target boxes must be a floating-point tensor, got {boxes.dtype}.", nameof(boxes));
        if (labels.dim() != 1 || labels.shape[0] != boxes.shape[0])
            throw new ArgumentException($"Target labels must be [N] with N = {boxes.shape[0]} boxes, got [{string.Join(", ", labels.shape)}].", nameof(labels));
        if (labels.dtype != ScalarType.Int64)
            throw new ArgumentException($"Target labels must be int64, got {labels.dtype}.", nameof(labels));
        Boxes = boxes;
        Labels = labels;
    }

    /// <summary>Boxes <c>[N, 4]</c> xyxy.</summary>
    public Tensor Boxes { get; init; }

    /// <summary>Labels <c>[N]</c> int64.</summary>
    public Tensor Labels { get; init; }

    /// <summary>Number of objects.</summary>
    public long Count => Boxes.shape[0];

    /// <summary>A target without objects.</summary>
    public static DetectionTarget Empty(Device? device = null) =>
        new(torch.zeros([0, 4], ScalarType.Float32, device), torch.zeros([0], ScalarType.Int64, device));
}
