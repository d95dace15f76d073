using Man.Vision.Data.Records;

namespace Man.Vision.Data.DetectionTransforms;

/// <summary>Mirrors the image left–right with probability <see cref="Probability"/>: boxes <c>x' = W − x</c>, masks and labels flipped.</summary>
public sealed class RandomHorizontalFlip : IDetectionTransform, ISegmentationTransform
{
    /// <summary>Creates the flip.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The probability is outside [0, 1].</exception>
    public RandomHorizontalFlip(double probability = 0.5)
    {
        if (probability is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(probability), probability, "The flip probability must lie in [0, 1].");
        Probability = probability;
    }

    /// <summary>The probability of a flip (torchvision: 0.5).</summary>
    public double Probability { get; }

    /// <inheritdoc/>
    public DetectionSample Apply(DetectionSample sample, Random random)
    {
        if (random.NextDouble() >= Probability) return sample;
        var t = sample.Target;
        return sample with
        {
            Image = sample.Image.flip(-1),
            Target = t.With(BoxGeometry.FlipHorizontal(t.Boxes, sample.Width), t.Masks?.flip(-1)),
        };
    }

    /// <inheritdoc/>
    public SegmentationSample Apply(SegmentationSample sample, Random random)
    {
        if (random.NextDouble() >= Probability) return sample;
        return sample with { Image = sample.Image.flip(-1), Label = sample.Label.flip(-1) };
    }
}
