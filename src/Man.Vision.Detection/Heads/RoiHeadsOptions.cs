using Man.Vision.Detection.Models;

namespace Man.Vision.Detection.Heads;

/// <summary>Options of the box RoI heads, with torchvision's Faster R-CNN defaults.</summary>
public sealed record RoiHeadsOptions
{
    /// <summary>Feature maps the RoIs are pooled from, finest first ("0".."3"; not the "pool" level).</summary>
    public IReadOnlyList<string> FeatureNames { get; init => field = value.Count > 0 ? value : throw new ArgumentException("FeatureNames must name at least one map.", nameof(FeatureNames)); } =
        ["0", "1", "2", "3"];

    /// <summary>Side of the pooled features (7).</summary>
    public int PoolOutputSize { get; init => field = Check.Positive(value, nameof(PoolOutputSize)); } = 7;

    /// <summary>Samples per bin of the RoIAlign (2); ≤ 0 for adaptive.</summary>
    public int SamplingRatio { get; init; } = 2;

    /// <summary>Width of the two-layer box head (1024).</summary>
    public int RepresentationSize { get; init => field = Check.Positive(value, nameof(RepresentationSize)); } = 1024;

    /// <summary>Proposals with IoU ≥ this to a gt are foreground (0.5).</summary>
    public double FgIouThresh { get; init => field = Check.Unit(value, nameof(FgIouThresh)); } = 0.5;

    /// <summary>Proposals with IoU &lt; this to every gt are background (0.5).</summary>
    public double BgIouThresh { get; init => field = Check.Unit(value, nameof(BgIouThresh)); } = 0.5;

    /// <summary>Proposals sampled per image for the losses (512).</summary>
    public int BatchSizePerImage { get; init => field = Check.Positive(value, nameof(BatchSizePerImage)); } = 512;

    /// <summary>Wanted fraction of foreground among the sampled proposals (0.25).</summary>
    public double PositiveFraction { get; init => field = Check.Unit(value, nameof(PositiveFraction)); } = 0.25;

    /// <summary>Box coder weights (10, 10, 5, 5).</summary>
    public (double X, double Y, double W, double H) BboxRegWeights { get; init; } = (10, 10, 5, 5);

    /// <summary>Detections with a score at or below this are dropped (0.05).</summary>
    public double ScoreThresh { get; init => field = Check.Unit(value, nameof(ScoreThresh)); } = 0.05;

    /// <summary>IoU threshold of the per-class NMS (0.5).</summary>
    public double NmsThresh { get; init => field = Check.Unit(value, nameof(NmsThresh)); } = 0.5;

    /// <summary>Detections kept per image (100).</summary>
    public int DetectionsPerImage { get; init => field = Check.Positive(value, nameof(DetectionsPerImage)); } = 100;

    /// <summary>Checks the rules between options.</summary>
    public RoiHeadsOptions Validate()
    {
        if (BgIouThresh > FgIouThresh)
            throw new ArgumentException($"RoI heads BgIouThresh ({BgIouThresh}) must not exceed FgIouThresh ({FgIouThresh}).");
        var w = BboxRegWeights;
        if (!(w.X > 0 && w.Y > 0 && w.W > 0 && w.H > 0))
            throw new ArgumentException($"RoI heads BboxRegWeights must be positive, got {w}.");
        return this;
    }
}
