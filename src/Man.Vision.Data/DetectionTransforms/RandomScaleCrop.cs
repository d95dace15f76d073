using Man.Vision.Data.Records;
using Man.Vision.Data.Segmentation;
using static TorchSharp.torch;

namespace Man.Vision.Data.DetectionTransforms;

/// <summary>
/// Segmentation augmentation as mmsegmentation's RandomResize(ratio_range) + RandomCrop: the image is scaled by a
/// factor uniform in [<see cref="MinScale"/>, <see cref="MaxScale"/>] (bilinear; the label nearest), padded to the
/// crop size when smaller (image 0, label 255 = ignore) and cropped at a uniformly random position.
/// </summary>
public sealed class RandomScaleCrop : ISegmentationTransform
{
    /// <summary>Creates the transform.</summary>
    /// <exception cref="ArgumentException">The scale range or the crop size is not positive and ordered.</exception>
    public RandomScaleCrop(int cropHeight, int cropWidth, double minScale = 0.5, double maxScale = 2.0)
    {
        if (cropHeight <= 0 || cropWidth <= 0) throw new ArgumentException($"The crop size must be positive, got {cropHeight}x{cropWidth}.");
        if (!(minScale > 0) || maxScale < minScale) throw new ArgumentException($"The scale range must satisfy 0 < min <= max, got [{minScale}, {maxScale}].");
        (CropHeight, CropWidth, MinScale, MaxScale) = (cropHeight, cropWidth, minScale, maxScale);
    }

    /// <summary>Crop height.</summary>
    public int CropHeight { get; }

    /// <summary>Crop width.</summary>
    public int CropWidth { get; }

    /// <summary>Smallest scale factor.</summary>
    public double MinScale { get; }

    /// <summary>Largest scale factor.</summary>
    public double MaxScale { get; }

    /// <inheritdoc/>
    public SegmentationSample Apply(SegmentationSample sample, Random random)
    {
        double s = MinScale + random.NextDouble() * (MaxScale - MinScale);
        int h = Math.Max(1, (int)Math.Round(sample.Height * s)), w = Math.Max(1, (int)Math.Round(sample.Width * s));
        var image = ImageOps.ResizeBilinear(sample.Image, h, w);
        var label = ImageOps.ResizeNearest(sample.Label.unsqueeze(0), h, w).squeeze(0);
        int ph = Math.Max(0, CropHeight - h), pw = Math.Max(0, CropWidth - w);
        if (ph > 0 || pw > 0)
        {
            image = nn.functional.pad(image, [0, pw, 0, ph], value: 0);
            label = nn.functional.pad(label, [0, pw, 0, ph], value: LabelEncoding.Ignore);
            h += ph;
            w += pw;
        }
        int y0 = random.Next(h - CropHeight + 1), x0 = random.Next(w - CropWidth + 1);
        return sample with
        {
            Image = image[.., y0..(y0 + CropHeight), x0..(x0 + CropWidth)],
            Label = label[y0..(y0 + CropHeight), x0..(x0 + CropWidth)],
        };
    }
}
