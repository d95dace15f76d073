using Man.Vision.Data.Records;

namespace Man.Vision.Data.DetectionTransforms;

/// <summary>Applies detection transforms in order.</summary>
public sealed class DetectionCompose(IEnumerable<IDetectionTransform> transforms) : IDetectionTransform
{
    /// <summary>The transforms, in order.</summary>
    public IReadOnlyList<IDetectionTransform> Transforms { get; } = transforms.ToArray();

    /// <inheritdoc/>
    public DetectionSample Apply(DetectionSample sample, Random random)
    {
        foreach (var t in Transforms) sample = t.Apply(sample, random);
        return sample;
    }

    /// <summary>
    /// Training augmentation: optional photometric jitter (brightness/contrast/saturation 0.2, half of the samples), horizontal flip (p = 0.5), resize by min/max side when
    /// <paramref name="minSizes"/> is given (torchvision's model-side resize, done here instead), clip and drop
    /// degenerate boxes, and optionally ImageNet normalisation (leave it to the model when it normalises itself).
    /// </summary>
    public static DetectionCompose Train(IReadOnlyList<int>? minSizes = null, int maxSize = 1333, bool jitter = true, bool normalize = false)
    {
        var list = new List<IDetectionTransform>();
        if (jitter) list.Add(new PhotometricJitter(hue: 0, probability: 0.5));
        list.Add(new RandomHorizontalFlip());
        if (minSizes is not null) list.Add(new ResizeByMinMaxSide(minSizes, maxSize));
        list.Add(new ClipAndDropBoxes());
        if (normalize) list.Add(new Normalize());
        return new DetectionCompose(list);
    }

    /// <summary>Evaluation: resize (when <paramref name="minSize"/> is given) and optional normalisation; nothing random.</summary>
    public static DetectionCompose Eval(int? minSize = null, int maxSize = 1333, bool normalize = false)
    {
        var list = new List<IDetectionTransform>();
        if (minSize is int m) list.Add(new ResizeByMinMaxSide([m], maxSize));
        if (normalize) list.Add(new Normalize());
        return new DetectionCompose(list);
    }
}
