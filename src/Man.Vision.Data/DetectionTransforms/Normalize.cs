using Man.Vision.Data.Records;

namespace Man.Vision.Data.DetectionTransforms;

/// <summary>Per-channel <c>(x − mean) / std</c> of the image (ImageNet statistics by default).</summary>
public sealed class Normalize : IDetectionTransform, ISegmentationTransform
{
    /// <summary>ImageNet mean (torchvision's detection and classification default).</summary>
    public static IReadOnlyList<float> ImageNetMean { get; } = [0.485f, 0.456f, 0.406f];

    /// <summary>ImageNet standard deviation.</summary>
    public static IReadOnlyList<float> ImageNetStd { get; } = [0.229f, 0.224f, 0.225f];

    /// <summary>Creates the normalisation.</summary>
    /// <exception cref="ArgumentException">Mean or std do not have 3 entries, or a std is not positive.</exception>
    public Normalize(IReadOnlyList<float>? mean = null, IReadOnlyList<float>? std = null)
    {
        Mean = mean ?? ImageNetMean;
        Std = std ?? ImageNetStd;
        if (Mean.Count != 3 || Std.Count != 3) throw new ArgumentException("Normalize needs 3 means and 3 standard deviations.");
        if (Std.Any(s => !(s > 0))) throw new ArgumentException("Normalize needs positive standard deviations.");
    }

    /// <summary>Channel means.</summary>
    public IReadOnlyList<float> Mean { get; }

    /// <summary>Channel standard deviations.</summary>
    public IReadOnlyList<float> Std { get; }

    /// <inheritdoc/>
    public DetectionSample Apply(DetectionSample sample, Random random) => sample with { Image = ImageOps.Normalize(sample.Image, Mean, Std) };

    /// <inheritdoc/>
    public SegmentationSample Apply(SegmentationSample sample, Random random) => sample with { Image = ImageOps.Normalize(sample.Image, Mean, Std) };
}
