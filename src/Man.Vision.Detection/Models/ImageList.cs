using static TorchSharp.torch;

namespace Man.Vision.Detection.Models;

/// <summary>
/// A batch of images of different sizes padded into one tensor (torchvision's <c>ImageList</c>).
/// </summary>
/// <param name="Tensors">The padded batch <c>[B, C, H, W]</c>; image b occupies the top-left <c>ImageSizes[b]</c>.</param>
/// <param name="ImageSizes">The size of each image before padding (after resizing).</param>
public sealed record ImageList(Tensor Tensors, IReadOnlyList<ImageSize> ImageSizes)
{
    /// <summary>The size of the padded batch.</summary>
    public ImageSize BatchSize => new(Tensors.shape[^2], Tensors.shape[^1]);
}
