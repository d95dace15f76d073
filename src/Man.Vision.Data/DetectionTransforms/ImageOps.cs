using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Data.DetectionTransforms;

/// <summary>
/// Tensor image operations shared by the detection and segmentation transforms, as torchvision's
/// <c>functional_tensor</c> computes them. Images are <c>[3, H, W]</c> float32 (values in [0, 1] before normalisation).
/// </summary>
public static class ImageOps
{
    /// <summary>Bilinear resize (align_corners = false, no antialias: torchvision's GeneralizedRCNNTransform).</summary>
    public static Tensor ResizeBilinear(Tensor image, int height, int width)
    {
        using var scope = NewDisposeScope();
        return nn.functional.interpolate(image.unsqueeze(0), size: [height, width], mode: InterpolationMode.Bilinear, align_corners: false)
            .squeeze(0).MoveToOuterDisposeScope();
    }

    /// <summary>Nearest resize of masks or labels <c>[N, H, W]</c> (any dtype; the dtype is kept), torch's "nearest" rule.</summary>
    public static Tensor ResizeNearest(Tensor maps, int height, int width)
    {
        if (maps.dim() != 3) throw new ArgumentException($"Expected [N, H, W], got [{string.Join(", ", maps.shape)}].");
        if (maps.shape[0] == 0) return zeros(0, height, width, maps.dtype);
        using var scope = NewDisposeScope();
        var dtype = maps.dtype;
        return nn.functional.interpolate(maps.unsqueeze(1).to(ScalarType.Float32), size: [height, width], mode: InterpolationMode.Nearest)
            .squeeze(1).to(dtype).MoveToOuterDisposeScope();
    }

    /// <summary>ITU-R 601 grey <c>[1, H, W]</c>: 0.2989 R + 0.587 G + 0.114 B (torchvision <c>rgb_to_grayscale</c>).</summary>
    public static Tensor Grayscale(Tensor image)
    {
        using var scope = NewDisposeScope();
        return (0.2989f * image[0] + 0.587f * image[1] + 0.114f * image[2]).unsqueeze(0).MoveToOuterDisposeScope();
    }

    /// <summary><c>clamp(factor·a + (1 − factor)·b, 0, 1)</c>, torchvision's <c>_blend</c> for float images.</summary>
    public static Tensor Blend(Tensor a, Tensor b, double factor)
    {
        using var scope = NewDisposeScope();
        return (a * factor + b * (1 - factor)).clamp(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>torchvision <c>adjust_brightness</c>.</summary>
    public static Tensor AdjustBrightness(Tensor image, double factor)
    {
        using var scope = NewDisposeScope();
        return (image * factor).clamp(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>torchvision <c>adjust_contrast</c>: blend with the mean grey value.</summary>
    public static Tensor AdjustContrast(Tensor image, double factor)
    {
        using var scope = NewDisposeScope();
        var mean = Grayscale(image).mean();
        return Blend(image, mean, factor).MoveToOuterDisposeScope();
    }

    /// <summary>torchvision <c>adjust_saturation</c>: blend with the grey image.</summary>
    public static Tensor AdjustSaturation(Tensor image, double factor)
    {
        using var scope = NewDisposeScope();
        return Blend(image, Grayscale(image), factor).MoveToOuterDisposeScope();
    }

    /// <summary>torchvision <c>adjust_hue</c>: shift the hue by <paramref name="hueFactor"/> ∈ [−0.5, 0.5] turns in HSV space.</summary>
    public static Tensor AdjustHue(Tensor image, double hueFactor)
    {
        if (hueFactor is < -0.5 or > 0.5) throw new ArgumentOutOfRangeException(nameof(hueFactor), hueFactor, "The hue factor must lie in [-0.5, 0.5].");
        using var scope = NewDisposeScope();
        var hsv = RgbToHsv(image);
        var h = (hsv[0] + hueFactor).remainder(1.0);
        return HsvToRgb(stack([h, hsv[1], hsv[2]], 0)).MoveToOuterDisposeScope();
    }

    /// <summary>RGB → HSV <c>[3, H, W]</c>, each in [0, 1] (torchvision <c>_rgb2hsv</c>).</summary>
    public static Tensor RgbToHsv(Tensor image)
    {
        using var scope = NewDisposeScope();
        var r = image[0];
        var g = image[1];
        var b = image[2];
        var maxc = image.amax([0]);
        var minc = image.amin([0]);
        var eqc = maxc.eq(minc);
        var cr = maxc - minc;
        var ones = ones_like(maxc);
        var s = cr / where(eqc, ones, maxc);
        var crDiv = where(eqc, ones, cr);
        var rc = (maxc - r) / crDiv;
        var gc = (maxc - g) / crDiv;
        var bc = (maxc - b) / crDiv;
        var isR = maxc.eq(r);
        var isG = maxc.eq(g).logical_and(isR.logical_not());
        var isB = maxc.ne(g).logical_and(isR.logical_not());
        var h = isR.to(ScalarType.Float32) * (bc - gc) + isG.to(ScalarType.Float32) * (2.0f + rc - bc) + isB.to(ScalarType.Float32) * (4.0f + gc - rc);
        h = (h / 6.0f + 1.0f).fmod(1.0f);
        return stack([h, s, maxc], 0).MoveToOuterDisposeScope();
    }

    /// <summary>HSV → RGB <c>[3, H, W]</c> (torchvision <c>_hsv2rgb</c>).</summary>
    public static Tensor HsvToRgb(Tensor hsv)
    {
        using var scope = NewDisposeScope();
        var h = hsv[0];
        var s = hsv[1];
        var v = hsv[2];
        var i = (h * 6.0f).floor();
        var f = h * 6.0f - i;
        var sector = i.to(ScalarType.Int32).remainder(6);
        var p = (v * (1.0f - s)).clamp(0, 1);
        var q = (v * (1.0f - s * f)).clamp(0, 1);
        var t = (v * (1.0f - s * (1.0f - f))).clamp(0, 1);
        Tensor[] rs = [v, q, p, p, t, v], gs = [t, v, v, q, p, p], bs = [p, p, t, v, v, q];
        var r = zeros_like(v);
        var g = zeros_like(v);
        var b = zeros_like(v);
        for (int k = 0; k < 6; k++)
        {
            var m = sector.eq(k).to(ScalarType.Float32);
            r += m * rs[k];
            g += m * gs[k];
            b += m * bs[k];
        }
        return stack([r, g, b], 0).MoveToOuterDisposeScope();
    }

    /// <summary><c>(image − mean) / std</c> per channel.</summary>
    public static Tensor Normalize(Tensor image, IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        using var scope = NewDisposeScope();
        var m = tensor(mean.ToArray()).view(-1, 1, 1);
        var s = tensor(std.ToArray()).view(-1, 1, 1);
        return ((image - m) / s).MoveToOuterDisposeScope();
    }
}
