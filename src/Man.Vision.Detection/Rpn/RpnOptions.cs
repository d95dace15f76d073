using Man.Vision.Detection.Models;

namespace Man.Vision.Detection.Rpn;

/// <summary>Options of the region proposal network and its anchors, with torchvision's Faster R-CNN defaults.</summary>
public sealed record RpnOptions
{
    /// <summary>Per FPN level, anchor sides in pixels (32, 64, 128, 256, 512: one per level).</summary>
    public IReadOnlyList<IReadOnlyList<double>> AnchorSizes { get; init => field = NonEmpty(value, nameof(AnchorSizes)); } =
        [[32], [64], [128], [256], [512]];

    /// <summary>Per FPN level, anchor aspect ratios height/width (0.5, 1, 2). A single entry is repeated for every level.</summary>
    public IReadOnlyList<IReadOnlyList<double>> AspectRatios { get; init => field = NonEmpty(value, nameof(AspectRatios)); } =
        [[0.5, 1.0, 2.0]];

    /// <summary>Proposals kept per level before NMS in training (2000).</summary>
    public int PreNmsTopNTrain { get; init => field = Check.Positive(value, nameof(PreNmsTopNTrain)); } = 2000;

    /// <summary>Proposals kept per level before NMS in inference (1000).</summary>
    public int PreNmsTopNTest { get; init => field = Check.Positive(value, nameof(PreNmsTopNTest)); } = 1000;

    /// <summary>Proposals kept per image after NMS in training (2000).</summary>
    public int PostNmsTopNTrain { get; init => field = Check.Positive(value, nameof(PostNmsTopNTrain)); } = 2000;

    /// <summary>Proposals kept per image after NMS in inference (1000).</summary>
    public int PostNmsTopNTest { get; init => field = Check.Positive(value, nameof(PostNmsTopNTest)); } = 1000;

    /// <summary>IoU threshold of the proposal NMS (0.7), done per level.</summary>
    public double NmsThresh { get; init => field = Check.Unit(value, nameof(NmsThresh)); } = 0.7;

    /// <summary>Anchors with IoU ≥ this to a gt are positive (0.7).</summary>
    public double FgIouThresh { get; init => field = Check.Unit(value, nameof(FgIouThresh)); } = 0.7;

    /// <summary>Anchors with IoU &lt; this to every gt are negative (0.3).</summary>
    public double BgIouThresh { get; init => field = Check.Unit(value, nameof(BgIouThresh)); } = 0.3;

    /// <summary>Anchors sampled per image for the losses (256).</summary>
    public int BatchSizePerImage { get; init => field = Check.Positive(value, nameof(BatchSizePerImage)); } = 256;

    /// <summary>Wanted fraction of positives among the sampled anchors (0.5).</summary>
    public double PositiveFraction { get; init => field = Check.Unit(value, nameof(PositiveFraction)); } = 0.5;

    /// <summary>Proposals with objectness probability below this are dropped (0).</summary>
    public double ScoreThresh { get; init => field = Check.Unit(value, nameof(ScoreThresh)); } = 0.0;

    /// <summary>Proposals with a side below this (pixels) are dropped (1e-3).</summary>
    public double MinSize { get; init => field = Check.NonNegative(value, nameof(MinSize)); } = 1e-3;

    /// <summary>Convolutions of the RPN head before its two predictors (1).</summary>
    public int ConvDepth { get; init => field = Check.Positive(value, nameof(ConvDepth)); } = 1;

    /// <summary>Checks the rules between options.</summary>
    /// <exception cref="ArgumentException">The background threshold is above the foreground threshold, or the anchor lists disagree.</exception>
    public RpnOptions Validate()
    {
        if (BgIouThresh > FgIouThresh)
            throw new ArgumentException($"RPN BgIouThresh ({BgIouThresh}) must not exceed FgIouThresh ({FgIouThresh}).");
        if (AspectRatios.Count != 1 && AspectRatios.Count != AnchorSizes.Count)
            throw new ArgumentException($"RPN AspectRatios has {AspectRatios.Count} levels; give one (shared) or {AnchorSizes.Count} (one per AnchorSizes level).");
        int a = AnchorSizes[0].Count * RatiosOf(0).Count;
        for (int l = 1; l < AnchorSizes.Count; l++)
            if (AnchorSizes[l].Count * RatiosOf(l).Count != a)
                throw new ArgumentException($"Every level needs the same number of anchors per location for the shared RPN head; level 0 has {a}, level {l} has {AnchorSizes[l].Count * RatiosOf(l).Count}.");
        return this;
    }

    /// <summary>The aspect ratios of level <paramref name="level"/>.</summary>
    public IReadOnlyList<double> RatiosOf(int level) => AspectRatios.Count == 1 ? AspectRatios[0] : AspectRatios[level];

    private static IReadOnlyList<IReadOnlyList<double>> NonEmpty(IReadOnlyList<IReadOnlyList<double>> value, string name)
    {
        if (value.Count == 0 || value.Any(l => l.Count == 0 || l.Any(v => !(v > 0))))
            throw new ArgumentException($"{name} needs at least one level, each a non-empty list of positive numbers.", name);
        return value;
    }
}
