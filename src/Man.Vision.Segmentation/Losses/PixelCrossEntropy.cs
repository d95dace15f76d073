using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Losses;

/// <summary>Per-pixel cross-entropy with an ignore index (torchvision reference: <c>ignore_index=255</c>).</summary>
public static class PixelCrossEntropy
{
    /// <summary>The ignore label of VOC / torchvision's reference training.</summary>
    public const long DefaultIgnoreIndex = 255;

    /// <summary>
    /// Mean cross-entropy over the pixels whose label is not <paramref name="ignoreIndex"/>; 0 (still attached to the
    /// graph) when every pixel is ignored, where PyTorch's mean would give NaN.
    /// </summary>
    /// <param name="logits">Logits <c>[N, C, H, W]</c>.</param>
    /// <param name="target">Labels <c>[N, H, W]</c>, int64, values in [0, C) or <paramref name="ignoreIndex"/>.</param>
    /// <param name="ignoreIndex">Label of pixels that take no part.</param>
    /// <exception cref="ArgumentException">Shapes do not fit or the target is not an integer tensor.</exception>
    public static Tensor Loss(Tensor logits, Tensor target, long ignoreIndex = DefaultIgnoreIndex)
    {
        if (logits.dim() != 4) throw new ArgumentException($"Logits must be [N, C, H, W]; got [{string.Join(", ", logits.shape)}].", nameof(logits));
        if (target.dim() != 3 || target.shape[0] != logits.shape[0] || target.shape[1] != logits.shape[2] || target.shape[2] != logits.shape[3])
            throw new ArgumentException(
                $"Target must be [N, H, W] = [{logits.shape[0]}, {logits.shape[2]}, {logits.shape[3]}] to fit the logits; got [{string.Join(", ", target.shape)}].",
                nameof(target));
        if (!torch.is_integral(target.dtype))
            throw new ArgumentException($"Target must hold integer labels (int64); got {target.dtype}.", nameof(target));
        using var scope = NewDisposeScope();
        Tensor t = target.dtype == ScalarType.Int64 ? target : target.to_type(ScalarType.Int64);
        Tensor sum = nn.functional.cross_entropy(logits, t, ignore_index: ignoreIndex, reduction: nn.Reduction.Sum);
        Tensor valid = t.ne(ignoreIndex).sum().clamp_min(1).to_type(sum.dtype);
        return sum.div(valid).MoveToOuterDisposeScope();
    }
}
