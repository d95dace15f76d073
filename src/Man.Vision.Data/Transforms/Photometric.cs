using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Data.Transforms;

/// <summary>
/// torchvision's photometric adjustments (<c>adjust_brightness</c>, <c>adjust_contrast</c>, <c>adjust_saturation</c>,
/// <c>rgb_to_grayscale</c>) on float images in [0, 1], <c>[C, H, W]</c> or a batch <c>[N, C, H, W]</c> with one factor per
/// image. Results are clamped to [0, 1] as torchvision's <c>_blend</c> does.
/// </summary>
public static class Photometric
{
    /// <summary>ITU-R 601 luma weights, as torchvision's <c>rgb_to_grayscale</c>.</summary>
    public static readonly float[] LumaWeights = [0.2989f, 0.587f, 0.114f];

    /// <summary>Grayscale <c>[.., 1, H, W]</c> of RGB images.</summary>
    public static Tensor Grayscale(Tensor images)
    {
        CheckRgb(images);
        using var scope = torch.NewDisposeScope();
        var w = torch.tensor(LumaWeights, device: images.device, dtype: images.dtype).view(-1, 1, 1);
        return images.mul(w).sum(-3, keepdim: true).MoveToOuterDisposeScope();
    }

    /// <summary><c>clamp(f · x, 0, 1)</c>.</summary>
    /// <param name="images">[C, H, W] or [N, C, H, W].</param>
    /// <param name="factors">One factor, or one per image of the batch.</param>
    public static Tensor AdjustBrightness(Tensor images, params float[] factors)
    {
        using var scope = torch.NewDisposeScope();
        return images.mul(Factors(images, factors)).clamp(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary><c>clamp(f · x + (1 − f) · mean(gray(x)), 0, 1)</c>, the mean over each image.</summary>
    /// <inheritdoc cref="AdjustBrightness"/>
    public static Tensor AdjustContrast(Tensor images, params float[] factors)
    {
        CheckRgb(images);
        using var scope = torch.NewDisposeScope();
        var mean = Grayscale(images).mean([-3L, -2L, -1L], keepdim: true);
        return Blend(images, mean, Factors(images, factors)).MoveToOuterDisposeScope();
    }

    /// <summary><c>clamp(f · x + (1 − f) · gray(x), 0, 1)</c>.</summary>
    /// <inheritdoc cref="AdjustBrightness"/>
    public static Tensor AdjustSaturation(Tensor images, params float[] factors)
    {
        CheckRgb(images);
        using var scope = torch.NewDisposeScope();
        return Blend(images, Grayscale(images), Factors(images, factors)).MoveToOuterDisposeScope();
    }

    private static Tensor Blend(Tensor a, Tensor b, Tensor f) => a.mul(f).add(b.mul(f.neg().add(1))).clamp(0, 1);

    private static Tensor Factors(Tensor images, float[] factors)
    {
        ArgumentNullException.ThrowIfNull(factors);
        long n = images.dim() == 4 ? images.shape[0] : 1;
        if (factors.Length != 1 && factors.Length != n)
            throw new ArgumentException($"Give one factor or one per image ({n}), got {factors.Length}.", nameof(factors));
        if (factors.Any(f => !(f >= 0)))
            throw new ArgumentException($"Factors must be non-negative, got ({string.Join(", ", factors)}).", nameof(factors));
        var t = torch.tensor(factors, device: images.device, dtype: images.dtype);
        return images.dim() == 4 ? t.view(-1, 1, 1, 1) : t.view(1, 1, 1);
    }

    private static void CheckRgb(Tensor images)
    {
        if (images.dim() is not (3 or 4) || images.shape[^3] != 3)
            throw new ArgumentException($"Expected RGB images [3, H, W] or [N, 3, H, W], got [{string.Join(", ", images.shape)}].", nameof(images));
    }
}
