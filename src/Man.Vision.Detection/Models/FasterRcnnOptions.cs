using Man.Vision.Detection.Heads;
using Man.Vision.Detection.Rpn;

namespace Man.Vision.Detection.Models;

/// <summary>Options of a Faster R-CNN with FPN; every component's record has torchvision's defaults.</summary>
public sealed record FasterRcnnOptions
{
    /// <summary>Classes including the background 0 (COCO in torchvision's numbering: 91).</summary>
    public int NumClasses { get; init => field = value >= 2 ? value : throw new ArgumentOutOfRangeException(nameof(NumClasses), value, "NumClasses counts the background too and must be at least 2."); } = 91;

    /// <summary>The input transform.</summary>
    public TransformOptions Transform { get; init; } = new();

    /// <summary>The region proposal network and its anchors.</summary>
    public RpnOptions Rpn { get; init; } = new();

    /// <summary>The box heads.</summary>
    public RoiHeadsOptions RoiHeads { get; init; } = new();

    /// <summary>Checks every component and the rules between them.</summary>
    public FasterRcnnOptions Validate()
    {
        Transform.Validate();
        Rpn.Validate();
        RoiHeads.Validate();
        return this;
    }
}
