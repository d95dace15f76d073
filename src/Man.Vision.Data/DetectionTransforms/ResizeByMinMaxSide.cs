using Man.Vision.Data.Records;
using static TorchSharp.torch;

namespace Man.Vision.Data.DetectionTransforms;

/// <summary>
/// torchvision's GeneralizedRCNNTransform resize: <c>scale = min(min_size / min(h, w), max_size / max(h, w))</c>,
/// output <c>floor(h·scale) × floor(w·scale)</c>; the image bilinear (align_corners = false), boxes scaled by
/// new/old per axis, masks nearest, area by the product of both ratios.
/// </summary>
public sealed class ResizeByMinMaxSide : IDetectionTransform
{
    /// <summary>Creates the resize.</summary>
    /// <param name="minSizes">Candidate shorter-side sizes; training picks one uniformly (torchvision's <c>min_size</c> tuple), default 800.</param>
    /// <param name="maxSize">The longer side's cap, default 1333.</param>
    /// <exception cref="ArgumentException">A size is not positive.</exception>
    public ResizeByMinMaxSide(IReadOnlyList<int>? minSizes = null, int maxSize = 1333)
    {
        MinSizes = minSizes?.ToArray() ?? [800];
        if (MinSizes.Count == 0 || MinSizes.Any(s => s <= 0)) throw new ArgumentException("ResizeByMinMaxSide needs positive min sizes.", nameof(minSizes));
        if (maxSize <= 0) throw new ArgumentException($"ResizeByMinMaxSide needs a positive max size, got {maxSize}.", nameof(maxSize));
        MaxSize = maxSize;
    }

    /// <summary>Candidate shorter-side sizes.</summary>
    public IReadOnlyList<int> MinSizes { get; }

    /// <summary>The longer side's cap.</summary>
    public int MaxSize { get; }

    /// <summary>The output size for an input of <paramref name="height"/>×<paramref name="width"/> and a chosen min size (torchvision's arithmetic).</summary>
    public (int Height, int Width) OutputSize(int height, int width, int minSize)
    {
        // torchvision computes the scale in float32 as `python_float / tensor`, which torch evaluates as
        // reciprocal(tensor) * python_float, and interpolate takes the size as floor(size · scale) in double.
        // Both roundings matter: 640x427 at 800 gives 1199x799, not 1199x800.
        float minSide = Math.Min(height, width), maxSide = Math.Max(height, width);
        float scale = Math.Min(1f / minSide * minSize, 1f / maxSide * MaxSize);
        return ((int)Math.Floor(height * (double)scale), (int)Math.Floor(width * (double)scale));
    }

    /// <inheritdoc/>
    public DetectionSample Apply(DetectionSample sample, Random random)
    {
        int minSize = MinSizes.Count == 1 ? MinSizes[0] : MinSizes[random.Next(MinSizes.Count)];
        int h = sample.Height, w = sample.Width;
        var (nh, nw) = OutputSize(h, w, minSize);
        if (nh == h && nw == w) return sample;
        var image = ImageOps.ResizeBilinear(sample.Image, nh, nw);
        float sx = (float)nw / w, sy = (float)nh / h;
        var t = sample.Target;
        var boxes = BoxGeometry.Scale(t.Boxes, sx, sy);
        var masks = t.Masks is null ? null : ImageOps.ResizeNearest(t.Masks, nh, nw);
        var area = t.Area * (sx * sy);
        return sample with { Image = image, Target = t.With(boxes, masks, area) };
    }
}
