using Man.Vision.Data.Records;

namespace Man.Vision.Data.DetectionTransforms;

/// <summary>Applies segmentation transforms in order.</summary>
public sealed class SegmentationCompose(IEnumerable<ISegmentationTransform> transforms) : ISegmentationTransform
{
    /// <summary>The transforms, in order.</summary>
    public IReadOnlyList<ISegmentationTransform> Transforms { get; } = transforms.ToArray();

    /// <inheritdoc/>
    public SegmentationSample Apply(SegmentationSample sample, Random random)
    {
        foreach (var t in Transforms) sample = t.Apply(sample, random);
        return sample;
    }

    /// <summary>Training: random scale (0.5–2.0) and crop, flip, photometric jitter (brightness/contrast/saturation 0.2, half of the samples), ImageNet normalisation (mmsegmentation's recipe).</summary>
    public static SegmentationCompose Train(int cropHeight, int cropWidth, double minScale = 0.5, double maxScale = 2.0, bool jitter = true, bool normalize = true)
    {
        var list = new List<ISegmentationTransform> { new RandomScaleCrop(cropHeight, cropWidth, minScale, maxScale), new RandomHorizontalFlip() };
        if (jitter) list.Add(new PhotometricJitter(hue: 0, probability: 0.5));
        if (normalize) list.Add(new Normalize());
        return new SegmentationCompose(list);
    }

    /// <summary>Evaluation: the whole image, normalised.</summary>
    public static SegmentationCompose Eval(bool normalize = true) => new(normalize ? [new Normalize()] : []);
}
