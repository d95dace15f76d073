namespace Man.Vision.Detection.Models;

/// <summary>Options of <see cref="GeneralizedRcnnTransform"/>, with torchvision's Faster R-CNN defaults.</summary>
public sealed record TransformOptions
{
    /// <summary>
    /// Shorter side after resizing (800). Several values: training picks one at random per image, inference uses the
    /// last, as torchvision does.
    /// </summary>
    public IReadOnlyList<int> MinSize { get; init => field = value.Count > 0 && value.All(v => v > 0) ? value.ToArray()
        : throw new ArgumentException($"MinSize needs at least one positive size, got [{string.Join(", ", value)}].", nameof(MinSize)); } = [800];

    /// <summary>Upper bound of the longer side after resizing (1333).</summary>
    public int MaxSize { get; init => field = Check.Positive(value, nameof(MaxSize)); } = 1333;

    /// <summary>Per-channel mean subtracted from images in [0, 1] (ImageNet: 0.485, 0.456, 0.406).</summary>
    public IReadOnlyList<float> ImageMean { get; init => field = value.Count > 0 ? value.ToArray()
        : throw new ArgumentException("ImageMean needs one value per channel.", nameof(ImageMean)); } = [0.485f, 0.456f, 0.406f];

    /// <summary>Per-channel standard deviation images are divided by (ImageNet: 0.229, 0.224, 0.225).</summary>
    public IReadOnlyList<float> ImageStd { get; init => field = value.Count > 0 && value.All(v => v > 0) ? value.ToArray()
        : throw new ArgumentException($"ImageStd needs one positive value per channel, got [{string.Join(", ", value)}].", nameof(ImageStd)); } = [0.229f, 0.224f, 0.225f];

    /// <summary>The padded batch's height and width are multiples of this (32).</summary>
    public int SizeDivisible { get; init => field = Check.Positive(value, nameof(SizeDivisible)); } = 32;

    /// <summary>Checks the rules between options.</summary>
    public TransformOptions Validate()
    {
        if (ImageMean.Count != ImageStd.Count)
            throw new ArgumentException($"ImageMean has {ImageMean.Count} channels but ImageStd has {ImageStd.Count}.");
        return this;
    }
}
