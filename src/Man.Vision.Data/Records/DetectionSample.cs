using static TorchSharp.torch;

namespace Man.Vision.Data.Records;

/// <summary>One detection sample after mapping: the image tensor <c>[3, H, W]</c> float32 and its target at that size.</summary>
/// <param name="Image"><c>[3, H, W]</c> float32: [0, 1] before normalisation, normalised after it.</param>
/// <param name="Target">Boxes, labels, masks... in the image's current pixel coordinates.</param>
/// <param name="Record">The record the sample came from (original file, size and annotations).</param>
public sealed record DetectionSample(Tensor Image, DetectionTarget Target, ImageRecord Record)
{
    /// <summary>The current image height.</summary>
    public int Height => (int)Image.shape[1];

    /// <summary>The current image width.</summary>
    public int Width => (int)Image.shape[2];
}
