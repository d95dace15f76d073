using static TorchSharp.torch;

namespace Man.Vision.Detection.Models;

/// <summary>The detections of one image, by decreasing score.</summary>
/// <param name="Boxes">Boxes <c>[K, 4]</c> xyxy in pixels of the image as given.</param>
/// <param name="Scores">Scores <c>[K]</c> in (0, 1].</param>
/// <param name="Labels">Classes <c>[K]</c> int64 (≥ 1).</param>
public sealed record Detections(Tensor Boxes, Tensor Scores, Tensor Labels)
{
    /// <summary>Number of detections.</summary>
    public long Count => Boxes.shape[0];
}
