using Man.Vision.Data.Records;

namespace Man.Vision.Data.DetectionTransforms;

/// <summary>
/// torchvision's ColorJitter on the image only (boxes, masks and labels unchanged): brightness, contrast and
/// saturation factors uniform in <c>[max(0, 1 − x), 1 + x]</c>, hue uniform in <c>[−hue, hue]</c>, applied in a random order.
/// </summary>
public sealed class PhotometricJitter : IDetectionTransform, ISegmentationTransform
{
    /// <summary>Creates the jitter.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A strength is negative, hue is above 0.5 or the probability is outside [0, 1].</exception>
    public PhotometricJitter(double brightness = 0.2, double contrast = 0.2, double saturation = 0.2, double hue = 0.02, double probability = 1.0)
    {
        if (brightness < 0 || contrast < 0 || saturation < 0) throw new ArgumentOutOfRangeException(nameof(brightness), "Jitter strengths must be non-negative.");
        if (hue is < 0 or > 0.5) throw new ArgumentOutOfRangeException(nameof(hue), hue, "The hue strength must lie in [0, 0.5].");
        if (probability is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(probability), probability, "The probability must lie in [0, 1].");
        (Brightness, Contrast, Saturation, Hue, Probability) = (brightness, contrast, saturation, hue, probability);
    }

    /// <summary>Brightness strength.</summary>
    public double Brightness { get; }

    /// <summary>Contrast strength.</summary>
    public double Contrast { get; }

    /// <summary>Saturation strength.</summary>
    public double Saturation { get; }

    /// <summary>Hue strength (turns).</summary>
    public double Hue { get; }

    /// <summary>The probability the jitter is applied at all.</summary>
    public double Probability { get; }

    /// <summary>Jitters an image <c>[3, H, W]</c> in [0, 1].</summary>
    public TorchSharp.torch.Tensor Jitter(TorchSharp.torch.Tensor image, Random random)
    {
        if (random.NextDouble() >= Probability) return image;
        int[] order = [0, 1, 2, 3];
        random.Shuffle(order);
        double b = Factor(random, Brightness), c = Factor(random, Contrast), s = Factor(random, Saturation);
        double h = Hue > 0 ? (random.NextDouble() * 2 - 1) * Hue : 0;
        foreach (int op in order)
        {
            image = op switch
            {
                0 when Brightness > 0 => ImageOps.AdjustBrightness(image, b),
                1 when Contrast > 0 => ImageOps.AdjustContrast(image, c),
                2 when Saturation > 0 => ImageOps.AdjustSaturation(image, s),
                3 when Hue > 0 => ImageOps.AdjustHue(image, h),
                _ => image,
            };
        }
        return image;
    }

    /// <inheritdoc/>
    public DetectionSample Apply(DetectionSample sample, Random random) => sample with { Image = Jitter(sample.Image, random) };

    /// <inheritdoc/>
    public SegmentationSample Apply(SegmentationSample sample, Random random) => sample with { Image = Jitter(sample.Image, random) };

    private static double Factor(Random r, double strength) => strength <= 0 ? 1 : Math.Max(0, 1 - strength) + r.NextDouble() * (1 + strength - Math.Max(0, 1 - strength));
}
