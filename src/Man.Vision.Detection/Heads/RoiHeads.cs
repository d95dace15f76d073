using Man.Vision.Detection.Matching;
using Man.Vision.Detection.Models;
using Man.Vision.Detection.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Heads;

/// <summary>
/// The box branch of Faster R-CNN (torchvision's <c>RoIHeads</c>, boxes only): MultiScaleRoIAlign → box head →
/// predictor. Training adds the gt boxes to the proposals, matches them (IoU ≥ 0.5 foreground, else background),
/// samples 512 per image at 25 % foreground and gives <c>loss_classifier</c> (cross-entropy) and
/// <c>loss_box_reg</c> (smooth-L1 β = 1/9 on the gt class's deltas of foreground RoIs, summed / number sampled).
/// Inference decodes per-class boxes, clips them, drops the background, scores ≤ 0.05 and boxes under 0.01 px,
/// runs NMS 0.5 per class and keeps the 100 best.
/// </summary>
/// <remarks>Shape shorthand: R sampled RoIs, K classes (background 0 included), C channels, 7×7 pooled.</remarks>
public sealed class RoiHeads : nn.Module
{
    private readonly TwoMlpHead box_head;
    private readonly FastRcnnPredictor box_predictor;

    /// <summary>Builds the heads for maps of <paramref name="inChannels"/> channels and <paramref name="numClasses"/> classes (with background).</summary>
    public RoiHeads(long inChannels, long numClasses, RoiHeadsOptions options) : this(options,
        new TwoMlpHead(inChannels * options.PoolOutputSize * options.PoolOutputSize, options.RepresentationSize),
        new FastRcnnPredictor(options.RepresentationSize, numClasses))
    {
    }

    /// <summary>Builds the heads from given box head and predictor (e.g. a custom head).</summary>
    public RoiHeads(RoiHeadsOptions options, TwoMlpHead boxHead, FastRcnnPredictor boxPredictor) : base(nameof(RoiHeads))
    {
        Options = options.Validate();
        box_head = boxHead;
        box_predictor = boxPredictor;
        BoxRoiPool = new MultiScaleRoiAlign(options.FeatureNames, options.PoolOutputSize, options.SamplingRatio);
        BoxCoder = new BoxCoder(options.BboxRegWeights);
        Matcher = new Matcher(options.FgIouThresh, options.BgIouThresh, allowLowQualityMatches: false);
        Sampler = new BalancedPositiveNegativeSampler(options.BatchSizePerImage, options.PositiveFraction);
        RegisterComponents();
    }

    /// <summary>The options.</summary>
    public RoiHeadsOptions Options { get; }

    /// <summary>The RoI pooler.</summary>
    public MultiScaleRoiAlign BoxRoiPool { get; }

    /// <summary>Box coder (10, 10, 5, 5).</summary>
    public BoxCoder BoxCoder { get; }

    /// <summary>Proposal-to-gt matcher.</summary>
    public Matcher Matcher { get; }

    /// <summary>Proposal sampler.</summary>
    public BalancedPositiveNegativeSampler Sampler { get; }

    /// <summary>Classes including the background.</summary>
    public long NumClasses => box_predictor.NumClasses;

    /// <summary>The two losses of sampled proposals.</summary>
    /// <param name="features">Feature maps by name.</param>
    /// <param name="proposals">Per image, proposals <c>[P_b, 4]</c> xyxy (detached).</param>
    /// <param name="imageSizes">Per image, its size in the batch.</param>
    /// <param name="targets">Per image, ground truth in batch pixels.</param>
    public IReadOnlyDictionary<string, Tensor> ComputeLosses(IReadOnlyDictionary<string, Tensor> features, IReadOnlyList<Tensor> proposals,
        IReadOnlyList<ImageSize> imageSizes, IReadOnlyList<DetectionTarget> targets)
    {
        if (targets.Count != proposals.Count) throw new ArgumentException($"{targets.Count} targets for {proposals.Count} images.", nameof(targets));
        using var scope = NewDisposeScope();
        var (sampledProposals, labels, regressionTargets) = SelectTrainingSamples(proposals, targets);
        Tensor pooled = BoxRoiPool.Forward(features, sampledProposals, imageSizes);
        var (logits, deltas) = box_predictor.call(box_head.call(pooled));
        var (cls, box) = FastRcnnLoss(logits, deltas, labels, regressionTargets);
        return new Dictionary<string, Tensor>
        {
            ["loss_classifier"] = cls.MoveToOuterDisposeScope(),
            ["loss_box_reg"] = box.MoveToOuterDisposeScope(),
        };
    }

    /// <summary>Detections per image in batch pixels (not yet scaled back to the original images).</summary>
    public IReadOnlyList<Detections> Predict(IReadOnlyDictionary<string, Tensor> features, IReadOnlyList<Tensor> proposals, IReadOnlyList<ImageSize> imageSizes)
    {
        using var scope = NewDisposeScope();
        Tensor pooled = BoxRoiPool.Forward(features, proposals, imageSizes);
        var (logits, deltas) = box_predictor.call(box_head.call(pooled));
        var result = PostprocessDetections(logits, deltas, proposals, imageSizes);
        foreach (var d in result) { d.Boxes.MoveToOuterDisposeScope(); d.Scores.MoveToOuterDisposeScope(); d.Labels.MoveToOuterDisposeScope(); }
        return result;
    }

    private (List<Tensor> Proposals, List<Tensor> Labels, IReadOnlyList<Tensor> RegressionTargets) SelectTrainingSamples(
        IReadOnlyList<Tensor> proposals, IReadOnlyList<DetectionTarget> targets)
    {
        var props = new List<Tensor>();
        var labels = new List<Tensor>();
        var matchedIdx = new List<Tensor>();
        for (int b = 0; b < proposals.Count; b++)
        {
            Tensor gt = targets[b].Boxes.to(proposals[b].dtype, proposals[b].device);
            Tensor p = torch.cat([proposals[b], gt], 0);
            props.Add(p);
            if (gt.shape[0] == 0)
            {
                matchedIdx.Add(torch.zeros([p.shape[0]], ScalarType.Int64, p.device));
                labels.Add(torch.zeros([p.shape[0]], ScalarType.Int64, p.device));
                continue;
            }
            Tensor idx = Matcher.Match(BoxOps.Iou(gt, p));
            Tensor clamped = idx.clamp_min(0);
            Tensor l = targets[b].Labels.to(ScalarType.Int64, p.device).index_select(0, clamped);
            l = l.masked_fill(idx.eq(Matcher.BelowLowThreshold), 0).masked_fill(idx.eq(Matcher.BetweenThresholds), -1);
            matchedIdx.Add(clamped);
            labels.Add(l);
        }
        var (pos, neg) = Sampler.Sample(labels);
        var matchedGt = new List<Tensor>();
        for (int b = 0; b < props.Count; b++)
        {
            Tensor keep = pos[b].logical_or(neg[b]).nonzero().flatten();
            props[b] = props[b].index_select(0, keep);
            labels[b] = labels[b].index_select(0, keep);
            Tensor gt = targets[b].Boxes.to(props[b].dtype, props[b].device);
            if (gt.shape[0] == 0) gt = torch.zeros([1, 4], props[b].dtype, props[b].device);
            matchedGt.Add(gt.index_select(0, matchedIdx[b].index_select(0, keep)));
        }
        return (props, labels, BoxCoder.Encode(matchedGt, props));
    }

    private static (Tensor Classifier, Tensor BoxReg) FastRcnnLoss(Tensor logits, Tensor deltas, List<Tensor> labels, IReadOnlyList<Tensor> regressionTargets)
    {
        Tensor l = torch.cat(labels, 0);
        Tensor targets = torch.cat(regressionTargets.ToList(), 0);
        Tensor cls = nn.functional.cross_entropy(logits, l);
        Tensor pos = l.gt(0).nonzero().flatten();
        long n = logits.shape[0], k = deltas.shape[1] / 4;
        Tensor rows = pos * k + l.index_select(0, pos);
        Tensor predicted = deltas.reshape(n * k, 4).index_select(0, rows);
        Tensor box = nn.functional.smooth_l1_loss(predicted, targets.index_select(0, pos), reduction: nn.Reduction.Sum, beta: 1.0 / 9)
            / Math.Max(1, l.shape[0]);
        return (cls, box);
    }

    private List<Detections> PostprocessDetections(Tensor logits, Tensor deltas, IReadOnlyList<Tensor> proposals, IReadOnlyList<ImageSize> imageSizes)
    {
        long k = logits.shape[^1];
        Tensor boxes = BoxCoder.Decode(deltas, proposals);
        Tensor scores = nn.functional.softmax(logits, -1);
        long[] counts = proposals.Select(p => p.shape[0]).ToArray();
        var boxList = boxes.split(counts, 0);
        var scoreList = scores.split(counts, 0);
        var result = new List<Detections>();
        for (int b = 0; b < counts.Length; b++)
        {
            Tensor bx = BoxOps.ClipToImage(boxList[b], imageSizes[b].Height, imageSizes[b].Width);
            Tensor sc = scoreList[b];
            Tensor lb = torch.arange(k, ScalarType.Int64, sc.device).view(1, -1).expand_as(sc);
            bx = bx[.., 1..].reshape(-1, 4);
            sc = sc[.., 1..].reshape(-1);
            lb = lb[.., 1..].reshape(-1);
            Tensor keep = sc.gt(Options.ScoreThresh).nonzero().flatten();
            bx = bx.index_select(0, keep); sc = sc.index_select(0, keep); lb = lb.index_select(0, keep);
            keep = BoxOps.RemoveSmall(bx, 1e-2);
            bx = bx.index_select(0, keep); sc = sc.index_select(0, keep); lb = lb.index_select(0, keep);
            keep = BoxOps.BatchedNms(bx, sc, lb, Options.NmsThresh);
            if (keep.shape[0] > Options.DetectionsPerImage) keep = keep[..Options.DetectionsPerImage];
            result.Add(new Detections(bx.index_select(0, keep), sc.index_select(0, keep), lb.index_select(0, keep)));
        }
        return result;
    }
}
