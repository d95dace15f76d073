using Man.Local;
using Man.Vision.Detection.Models;

namespace Man.Vision.Detection.LocalLearning;

/// <summary>
/// Options of <see cref="RcnnDetectionAuxHead"/>, a one-level Faster R-CNN on an early block's feature at its own
/// stride: the defaults are torchvision's single-map Faster R-CNN (anchors 32–512 × ratios 0.5/1/2 on one map, RPN
/// 0.7/0.3 matching, RoI 0.5 matching, 25 % foreground), narrowed for an auxiliary head (128 channels, a 256-wide
/// box MLP, 300 proposals, 128 RoIs per image).
/// </summary>
public sealed record RcnnHeadOptions : AuxHeadOptions
{
    /// <inheritdoc/>
    public override string Kind => "rcnn";

    /// <inheritdoc/>
    public override AuxiliaryHead<DetectionTargets> Create(long inChannels, int numClasses) => new RcnnDetectionAuxHead(inChannels, numClasses, this);

    /// <summary>Channels of the 1×1 + 3×3 neck in front of the RPN and RoI pooling (128).</summary>
    public int Width { get; init => field = Check.Positive(value, nameof(Width)); } = 128;

    /// <summary>Width of the box head's two fully connected layers (256; torchvision 1024).</summary>
    public int RepresentationSize { get; init => field = Check.Positive(value, nameof(RepresentationSize)); } = 256;

    /// <summary>Anchor sides on the one map (32, 64, 128, 256, 512).</summary>
    public IReadOnlyList<double> AnchorSizes { get; init => field = value.Count > 0 && value.All(v => v > 0) ? value.ToArray()
        : throw new ArgumentException("AnchorSizes needs at least one positive size.", nameof(AnchorSizes)); } = [32, 64, 128, 256, 512];

    /// <summary>Anchor aspect ratios height/width (0.5, 1, 2).</summary>
    public IReadOnlyList<double> AspectRatios { get; init => field = value.Count > 0 && value.All(v => v > 0) ? value.ToArray()
        : throw new ArgumentException("AspectRatios needs at least one positive ratio.", nameof(AspectRatios)); } = [0.5, 1.0, 2.0];

    /// <summary>Proposals kept per image before the RPN's NMS (1000).</summary>
    public int PreNmsTopN { get; init => field = Check.Positive(value, nameof(PreNmsTopN)); } = 1000;

    /// <summary>Proposals kept per image after the RPN's NMS (300).</summary>
    public int PostNmsTopN { get; init => field = Check.Positive(value, nameof(PostNmsTopN)); } = 300;

    /// <summary>RoIs sampled per image for the box losses (128).</summary>
    public int BatchSizePerImage { get; init => field = Check.Positive(value, nameof(BatchSizePerImage)); } = 128;
}
