using Man.Local;
using Man.Vision.Detection.Models;

namespace Man.Vision.Detection.LocalLearning;

/// <summary>
/// Options of the auxiliary dense detection head of early blocks (RetinaNet-style, after the MAN++ detection code):
/// defaults follow torchvision's RetinaNet where they apply (matcher 0.5/0.4 with low-quality matches, focal
/// α = 0.25, γ = 2, box coder (1, 1, 1, 1), prior 0.01).
/// </summary>
public sealed record DenseHeadOptions : AuxHeadOptions
{
    /// <inheritdoc/>
    public override string Kind => "dense";

    /// <inheritdoc/>
    public override AuxiliaryHead<DetectionTargets> Create(long inChannels, int numClasses) => new DenseDetectionAuxHead(inChannels, numClasses, this);

    /// <summary>Channels of the subnet convolutions (128; RetinaNet uses 256).</summary>
    public int Width { get; init => field = Check.Positive(value, nameof(Width)); } = 128;

    /// <summary>3×3 conv + ReLU layers per subnet before the predictor (2).</summary>
    public int ConvDepth { get; init => field = Check.Positive(value, nameof(ConvDepth)); } = 2;

    /// <summary>
    /// Features finer than this stride are average-pooled to it first (16), keeping the head affordable on the
    /// high-resolution early blocks; the anchors sit at the resulting stride.
    /// </summary>
    public int MinStride { get; init => field = Check.Positive(value, nameof(MinStride)); } = 16;

    /// <summary>Anchor sides at every location (32, 64, 128, 256, 512: the sizes of the FPN levels on one map).</summary>
    public IReadOnlyList<double> AnchorSizes { get; init => field = value.Count > 0 && value.All(v => v > 0) ? value.ToArray()
        : throw new ArgumentException("AnchorSizes needs at least one positive size.", nameof(AnchorSizes)); } = [32, 64, 128, 256, 512];

    /// <summary>Anchor aspect ratios height/width (0.5, 1, 2).</summary>
    public IReadOnlyList<double> AspectRatios { get; init => field = value.Count > 0 && value.All(v => v > 0) ? value.ToArray()
        : throw new ArgumentException("AspectRatios needs at least one positive ratio.", nameof(AspectRatios)); } = [0.5, 1.0, 2.0];

    /// <summary>Anchors with IoU ≥ this are positive (0.5).</summary>
    public double FgIouThresh { get; init => field = Check.Unit(value, nameof(FgIouThresh)); } = 0.5;

    /// <summary>Anchors with IoU &lt; this are negative (0.4); in between they are ignored.</summary>
    public double BgIouThresh { get; init => field = Check.Unit(value, nameof(BgIouThresh)); } = 0.4;

    /// <summary>Focal loss α (0.25).</summary>
    public double FocalAlpha { get; init => field = Check.Unit(value, nameof(FocalAlpha)); } = 0.25;

    /// <summary>Focal loss γ (2).</summary>
    public double FocalGamma { get; init => field = Check.NonNegative(value, nameof(FocalGamma)); } = 2;

    /// <summary>Smooth-L1 β of the box loss (1/9, as the Faster R-CNN losses).</summary>
    public double SmoothL1Beta { get; init => field = Check.NonNegative(value, nameof(SmoothL1Beta)); } = 1.0 / 9;

    /// <summary>Prior probability of the classification bias initialisation (0.01).</summary>
    public double PriorProbability { get; init => field = value > 0 && value < 1 ? value
        : throw new ArgumentOutOfRangeException(nameof(PriorProbability), value, "PriorProbability must be in (0, 1)."); } = 0.01;

    /// <summary>Checks the rules between options.</summary>
    public DenseHeadOptions Validate()
    {
        if (BgIouThresh > FgIouThresh)
            throw new ArgumentException($"Dense head BgIouThresh ({BgIouThresh}) must not exceed FgIouThresh ({FgIouThresh}).");
        return this;
    }
}
