using Man.Local;
using Man.Vision.Detection.Heads;
using Man.Vision.Detection.Rpn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Detection.LocalLearning;

/// <summary>
/// Auxiliary head that trains an early block with the main head's own objective on one map: a 1×1 + 3×3 neck (a
/// one-level FPN), an RPN and the RoI box head (RoIAlign 7×7 → two-layer MLP → classes and per-class deltas) on the
/// block feature at its own stride. The loss is the sum of the four Faster R-CNN losses (torchvision's definitions,
/// see <see cref="RegionProposalNetwork"/> and <see cref="RoiHeads"/>). Unlike <see cref="DenseDetectionAuxHead"/>,
/// the block learns from RoI-pooled classification and box regression, which is what the main head asks of the
/// same feature through the FPN.
/// </summary>
public sealed class RcnnDetectionAuxHead : AuxiliaryHead<DetectionTargets>
{
    private readonly Conv2d inner;
    private readonly Conv2d layer;
    private readonly RegionProposalNetwork rpn;
    private readonly RoiHeads roi_heads;

    /// <summary>Creates the head.</summary>
    /// <param name="inChannels">Channels of the block feature.</param>
    /// <param name="numClasses">Classes including the background.</param>
    /// <param name="options">Head options.</param>
    public RcnnDetectionAuxHead(long inChannels, int numClasses, RcnnHeadOptions options) : base(nameof(RcnnDetectionAuxHead))
    {
        if (inChannels <= 0) throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "Channels must be positive.");
        if (numClasses < 2) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "numClasses counts the background and must be at least 2.");
        Options = options;
        NumClasses = numClasses;
        inner = nn.Conv2d(inChannels, options.Width, 1);
        layer = nn.Conv2d(options.Width, options.Width, 3, padding: 1);
        rpn = new RegionProposalNetwork(options.Width, new RpnOptions
        {
            AnchorSizes = [options.AnchorSizes],
            AspectRatios = [options.AspectRatios],
            PreNmsTopNTrain = options.PreNmsTopN,
            PreNmsTopNTest = options.PreNmsTopN,
            PostNmsTopNTrain = options.PostNmsTopN,
            PostNmsTopNTest = options.PostNmsTopN,
        });
        roi_heads = new RoiHeads(options.Width, numClasses, new RoiHeadsOptions
        {
            FeatureNames = ["0"],
            RepresentationSize = options.RepresentationSize,
            BatchSizePerImage = options.BatchSizePerImage,
        });
        RegisterComponents();
        using (torch.no_grad())
        {
            // As torchvision's FPN convs: Kaiming-uniform (a = 1), zero bias.
            foreach (var conv in new[] { inner, layer })
            {
                nn.init.kaiming_uniform_(conv.weight!, a: 1);
                nn.init.constant_(conv.bias!, 0);
            }
        }
    }

    /// <summary>The options.</summary>
    public RcnnHeadOptions Options { get; }

    /// <summary>Classes including the background.</summary>
    public int NumClasses { get; }

    /// <summary>The four losses (torchvision's names) of a block feature.</summary>
    /// <param name="features">The block feature <c>[B, C, H, W]</c>.</param>
    /// <param name="target">The batch's targets.</param>
    public IReadOnlyDictionary<string, Tensor> Losses(Tensor features, DetectionTargets target)
    {
        if (features.dim() != 4)
            throw new ArgumentException($"Block features must be [B, C, H, W], got [{string.Join(", ", features.shape)}].", nameof(features));
        if (features.shape[0] != target.Count)
            throw new ArgumentException($"{target.Count} targets for a batch of {features.shape[0]}.", nameof(target));
        using var scope = NewDisposeScope();
        Tensor x = layer.call(inner.call(features));
        var (proposals, rpnLosses) = rpn.Forward(target.BatchSize, target.ImageSizes, [x], target.Targets);
        var losses = new Dictionary<string, Tensor>(roi_heads.ComputeLosses(new Dictionary<string, Tensor> { ["0"] = x }, proposals, target.ImageSizes, target.Targets));
        foreach (var (k, v) in rpnLosses) losses[k] = v;
        foreach (var v in losses.Values) v.MoveToOuterDisposeScope();
        return losses;
    }

    /// <inheritdoc/>
    public override Tensor Loss(Tensor features, DetectionTargets target)
    {
        using var scope = NewDisposeScope();
        var losses = Losses(features, target);
        return torch.stack(losses.Values.ToArray()).sum().MoveToOuterDisposeScope();
    }
}
