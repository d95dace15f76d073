using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Data.Transforms;

/// <summary>Deterministic geometric helpers on image tensors ([C, H, W] or [N, C, H, W], float), as torchvision's functional API.</summary>
public static class ImageResize
{
    /// <summary>
    /// torchvision's <c>resize(img, size)</c> with one int: the shorter side becomes <paramref name="size"/>, the longer
    /// <c>floor(size · long / short)</c>; bilinear with antialiasing (torchvision ≥ 0.17's default, and PIL's).
    /// </summary>
    public static Tensor ResizeShorterSide(Tensor image, int size)
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), size, "The size must be at least 1.");
        long h = image.shape[^2], w = image.shape[^1];
        bool wide = w >= h;
        long shortSide = wide ? h : w, longSide = wide ? w : h;
        long newLong = (long)(size * longSide / (double)shortSide);
        return wide ? Resize(image, size, (int)newLong) : Resize(image, (int)newLong, size);
    }

    /// <summary>Bilinear resize (antialiased when shrinking, <c>align_corners=False</c>) to <paramref name="height"/>×<paramref name="width"/>.</summary>
    public static Tensor Resize(Tensor image, int height, int width)
    {
        if (height < 1 || width < 1) throw new ArgumentOutOfRangeException(nameof(height), $"The output size must be positive, got {width}x{height}.");
        if (image.dim() is not (3 or 4)) throw new ArgumentException($"Expected [C, H, W] or [N, C, H, W], got [{string.Join(", ", image.shape)}].", nameof(image));
        if (image.shape[^2] == height && image.shape[^1] == width) return image.alias();
        using var scope = torch.NewDisposeScope();
        bool single = image.dim() == 3;
        var x = single ? image.unsqueeze(0) : image;
        if (x.dtype != ScalarType.Float32 && x.dtype != ScalarType.Float64) x = x.to(ScalarType.Float32);
        var y = nn.functional.interpolate(x, [height, width], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
        return (single ? y.squeeze(0) : y).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// torchvision's <c>center_crop</c>: the window starts at <c>round((H − h) / 2)</c>, <c>round((W − w) / 2)</c> (round half to
    /// even, as Python); an image smaller than the crop is zero-padded first, as torchvision does.
    /// </summary>
    public static Tensor CenterCrop(Tensor image, int height, int width)
    {
        if (height < 1 || width < 1) throw new ArgumentOutOfRangeException(nameof(height), $"The crop size must be positive, got {width}x{height}.");
        using var scope = torch.NewDisposeScope();
        var x = image;
        long h = x.shape[^2], w = x.shape[^1];
        if (h < height || w < width)
        {
            long padTop = Math.Max(0, (height - h) / 2), padLeft = Math.Max(0, (width - w) / 2);
            long padBottom = Math.Max(0, (height - h + 1) / 2), padRight = Math.Max(0, (width - w + 1) / 2);
            x = nn.functional.pad(x, [padLeft, padRight, padTop, padBottom], PaddingModes.Constant, 0);
            h = x.shape[^2];
            w = x.shape[^1];
        }
        long top = (long)Math.Round((h - height) / 2.0, MidpointRounding.ToEven);
        long left = (long)Math.Round((w - width) / 2.0, MidpointRounding.ToEven);
        int d = x.dim() == 3 ? 1 : 2;
        return x.narrow(d, top, height).narrow(d + 1, left, width).MoveToOuterDisposeScope();
    }
}
