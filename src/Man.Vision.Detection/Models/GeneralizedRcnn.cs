using Man.Vision.Detection.Heads;
using Man.Vision.Detection.Rpn;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Models;

/// <summary>
/// A two-stage detector assembled from built parts (torchvision's <c>GeneralizedRCNN</c>): transform → backbone →
/// RPN → RoI heads → postprocess. Training and inference are separate calls; the model holds no optimiser state.
/// Submodules are named <c>backbone</c>, <c>rpn</c> and <c>roi_heads</c>, so state-dict keys equal torchvision's.
/// </summary>
public class GeneralizedRcnn : nn.Module
{
    private readonly DetectionBackbone backbone;
    private readonly RegionProposalNetwork rpn;
    private readonly RoiHeads roi_heads;

    /// <summary>Assembles the detector.</summary>
    public GeneralizedRcnn(DetectionBackbone backbone, RegionProposalNetwork rpn, RoiHeads roiHeads, GeneralizedRcnnTransform transform)
        : base(nameof(GeneralizedRcnn))
    {
        this.backbone = backbone;
        this.rpn = rpn;
        roi_heads = roiHeads;
        Transform = transform;
        RegisterComponents();
    }

    /// <summary>Parameters and persistent buffers by their full names (torchvision's keys), in TorchSharp's order.</summary>
    public override Dictionary<string, Tensor> state_dict(Dictionary<string, Tensor>? destination = null, string? prefix = null) =>
        FlatStateDict.Of(this, destination, prefix);

    /// <summary>The backbone (with FPN).</summary>
    public DetectionBackbone Backbone => backbone;

    /// <summary>The region proposal network.</summary>
    public RegionProposalNetwork Rpn => rpn;

    /// <summary>The box heads.</summary>
    public RoiHeads RoiHeads => roi_heads;

    /// <summary>The input/output transform.</summary>
    public GeneralizedRcnnTransform Transform { get; }

    /// <summary>
    /// The training losses with torchvision's names: <c>loss_classifier</c>, <c>loss_box_reg</c>,
    /// <c>loss_objectness</c>, <c>loss_rpn_box_reg</c> (scalars; their sum is the usual objective). Proposal top-n and
    /// batch norm follow the module's mode: call <c>train()</c> first for torchvision's training behaviour.
    /// </summary>
    /// <param name="images">Images <c>[3, H, W]</c> in [0, 1].</param>
    /// <param name="targets">Ground truth per image in original pixels; images without boxes are allowed.</param>
    /// <exception cref="ArgumentException">A target box has no positive width or height.</exception>
    public IReadOnlyDictionary<string, Tensor> ComputeLosses(IReadOnlyList<Tensor> images, IReadOnlyList<DetectionTarget> targets)
    {
        using var scope = NewDisposeScope();
        var (batch, scaled) = Transform.Apply(images, targets, training);
        CheckTargets(scaled!, roi_heads.NumClasses);
        var features = backbone.call(batch.Tensors);
        return Losses(batch, features, scaled!).MoveToOuter();
    }

    /// <summary>
    /// Losses from already computed feature maps (used when the backbone runs elsewhere, e.g. block by block in local
    /// learning). <paramref name="batch"/> and <paramref name="targets"/> come from <see cref="GeneralizedRcnnTransform.Apply"/>.
    /// </summary>
    public Dictionary<string, Tensor> Losses(ImageList batch, OrderedDictionary<string, Tensor> features, IReadOnlyList<DetectionTarget> targets)
    {
        var (proposals, rpnLosses) = rpn.Forward(batch, features.Values.ToList(), targets);
        var losses = new Dictionary<string, Tensor>(roi_heads.ComputeLosses(features, proposals, batch.ImageSizes, targets));
        foreach (var (k, v) in rpnLosses) losses[k] = v;
        return losses;
    }

    /// <summary>
    /// Detections per image in original pixels (boxes xyxy, scores, labels), under no-grad. Call <c>eval()</c> first
    /// for torchvision's inference behaviour (test-time proposal counts, batch-norm statistics).
    /// </summary>
    /// <param name="images">Images <c>[3, H, W]</c> in [0, 1].</param>
    public IReadOnlyList<Detections> Predict(IReadOnlyList<Tensor> images)
    {
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        var original = images.Select(i => new ImageSize(i.shape[^2], i.shape[^1])).ToArray();
        var (batch, _) = Transform.Apply(images, null, training: false);
        var features = backbone.call(batch.Tensors);
        var (proposals, _) = rpn.Forward(batch, features.Values.ToList(), null);
        var detections = roi_heads.Predict(features, proposals, batch.ImageSizes);
        var result = Transform.Postprocess(detections, batch.ImageSizes, original);
        foreach (var d in result) { d.Boxes.MoveToOuterDisposeScope(); d.Scores.MoveToOuterDisposeScope(); d.Labels.MoveToOuterDisposeScope(); }
        return result;
    }

    private static void CheckTargets(IReadOnlyList<DetectionTarget> targets, long numClasses)
    {
        for (int i = 0; i < targets.Count; i++)
        {
            Tensor b = targets[i].Boxes;
            if (b.shape[0] == 0) continue;
            long min = targets[i].Labels.min().item<long>(), max = targets[i].Labels.max().item<long>();
            if (min < 1 || max >= numClasses)
                throw new ArgumentException($"Target {i} has labels in [{min}, {max}]; object classes are 1..{numClasses - 1} (0 is the background).");
            if (!b.isfinite().all().item<bool>())
                throw new ArgumentException($"Target {i} has a box with a NaN or infinite coordinate.");
            Tensor degenerate = b[.., 2..].le(b[.., ..2]).any(1);
            if (!degenerate.any().item<bool>()) continue;
            long first = degenerate.nonzero()[0, 0].item<long>();
            float[] box = b[first].cpu().data<float>().ToArray();
            throw new ArgumentException("All bounding boxes should have positive height and width. " +
                $"Found invalid box [{string.Join(", ", box)}] (xyxy, after resizing) at index {first} of target {i}.");
        }
    }
}
