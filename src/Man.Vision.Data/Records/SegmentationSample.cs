using static TorchSharp.torch;

namespace Man.Vision.Data.Records;

/// <summary>One semantic segmentation sample: the image <c>[3, H, W]</c> float32 and its label <c>[H, W]</c> int64 (0..C−1, 255 ignore).</summary>
/// <param name="Image"><c>[3, H, W]</c> float32.</param>
/// <param name="Label"><c>[H, W]</c> int64 training ids, 255 = ignore.</param>
/// <param name="Record">The record the sample came from.</param>
public sealed record SegmentationSample(Tensor Image, Tensor Label, LabelImageRecord Record)
{
    /// <summary>The current image height.</summary>
    public int Height => (int)Image.shape[1];

    /// <summary>The current image width.</summary>
    public int Width => (int)Image.shape[2];
}
