using Man.Vision.Detection.Anchors;
using Man.Vision.Detection.Matching;
using Man.Vision.Detection.Models;
using Man.Vision.Detection.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Rpn;

/// <summary>
/// Region proposal network (Ren et al.), as torchvision's <c>RegionProposalNetwork</c>: the head scores and refines
/// the anchors of every level; the top-n anchors per level by objectness are decoded, clipped, filtered by size and
/// score, NMS'd per level and cut to the post-NMS top-n. The losses (<c>loss_objectness</c>: BCE with logits on the
/// sampled anchors, <c>loss_rpn_box_reg</c>: smooth-L1 β = 1/9 summed over sampled positives / number sampled) come
/// from anchors matched to the ground truth (IoU ≥ 0.7 positive, &lt; 0.3 negative, best anchors of each gt positive).
/// </summary>
/// <remarks>
/// Shape shorthand: B images, level l with A anchors per location on H_l×W_l, T = Σ A·H_l·W_l anchors per image.
/// The pre/post-NMS top-n use the training values while the module is in training mode.
/// </remarks>
public sealed class RegionProposalNetwork : nn.Module
{
    private readonly RpnHead head;

    /// <summary>Builds the RPN with a new head for maps of <paramref name="inChannels"/> channels.</summary>
    public RegionProposalNetwork(long inChannels, RpnOptions options) : base(nameof(RegionProposalNetwork))
    {
        Options = options.Validate();
        AnchorGenerator = new AnchorGenerator(options.AnchorSizes,
            Enumerable.Range(0, options.AnchorSizes.Count).Select(options.RatiosOf).ToArray());
        head = new RpnHead(inChannels, AnchorGenerator.NumAnchorsPerLocation[0], options.ConvDepth);
        BoxCoder = new BoxCoder((1, 1, 1, 1));
        Matcher = new Matcher(options.FgIouThresh, options.BgIouThresh, allowLowQualityMatches: true);
        Sampler = new BalancedPositiveNegativeSampler(options.BatchSizePerImage, options.PositiveFraction);
        RegisterComponents();
    }

    /// <summary>The options.</summary>
    public RpnOptions Options { get; }

    /// <summary>The anchors.</summary>
    public AnchorGenerator AnchorGenerator { get; }

    /// <summary>The head (<c>rpn.head</c>).</summary>
    public RpnHead Head => head;

    /// <summary>Box coder with weights (1, 1, 1, 1).</summary>
    public BoxCoder BoxCoder { get; }

    /// <summary>Anchor-to-gt matcher (0.7 / 0.3, low-quality matches allowed).</summary>
    public Matcher Matcher { get; }

    /// <summary>Anchor sampler (256 per image, half positive).</summary>
    public BalancedPositiveNegativeSampler Sampler { get; }

    /// <summary>Proposals per image and, when <paramref name="targets"/> are given, the two RPN losses.</summary>
    /// <param name="images">The padded batch.</param>
    /// <param name="features">The maps, finest first (as many as anchor levels).</param>
    /// <param name="targets">Ground truth per image in batch pixels, or null for no losses.</param>
    /// <returns>Proposals per image <c>[P_b, 4]</c> xyxy (detached) and the losses (empty without targets).</returns>
    public (IReadOnlyList<Tensor> Proposals, IReadOnlyDictionary<string, Tensor> Losses) Forward(
        ImageList images, IReadOnlyList<Tensor> features, IReadOnlyList<DetectionTarget>? targets) =>
        Forward(images.BatchSize, images.ImageSizes, features, targets);

    /// <summary>Proposals and losses for a padded batch of size <paramref name="batchSize"/> (see the other overload).</summary>
    /// <param name="batchSize">Height and width of the padded batch (sets the anchor strides).</param>
    /// <param name="imageSizes">Per image, its size before padding (proposals are clipped to it).</param>
    /// <param name="features">The maps, finest first.</param>
    /// <param name="targets">Ground truth per image in batch pixels, or null for no losses.</param>
    public (IReadOnlyList<Tensor> Proposals, IReadOnlyDictionary<string, Tensor> Losses) Forward(
        ImageSize batchSize, IReadOnlyList<ImageSize> imageSizes, IReadOnlyList<Tensor> features, IReadOnlyList<DetectionTarget>? targets)
    {
        using var scope = NewDisposeScope();
        int numImages = imageSizes.Count;
        if (features.Count > 0 && features[0].shape[0] != numImages)
            throw new ArgumentException($"{imageSizes.Count} image sizes for a batch of {features[0].shape[0]} feature maps.", nameof(imageSizes));
        var (logits, deltas) = head.call(features);
        Tensor grid = AnchorGenerator.GridAnchors(batchSize, features.Select(f => new ImageSize(f.shape[^2], f.shape[^1])).ToList(),
            features[0].dtype, features[0].device);
        var anchors = Enumerable.Repeat(grid, numImages).ToList();
        long[] perLevel = logits.Select(o => o.shape[1] * o.shape[2] * o.shape[3]).ToArray();
        var (objectness, boxDeltas) = Concat(logits, deltas);
        Tensor proposals = BoxCoder.Decode(boxDeltas.detach(), anchors).view(numImages, -1, 4);
        var boxes = FilterProposals(proposals, objectness, imageSizes, perLevel);

        var losses = new Dictionary<string, Tensor>();
        if (targets is not null)
        {
            if (targets.Count != numImages) throw new ArgumentException($"{targets.Count} targets for {numImages} images.", nameof(targets));
            var (labels, matchedGt) = AssignTargets(anchors, targets);
            var regressionTargets = BoxCoder.Encode(matchedGt, anchors);
            var (lossObj, lossBox) = ComputeLoss(objectness, boxDeltas, labels, regressionTargets);
            losses["loss_objectness"] = lossObj.MoveToOuterDisposeScope();
            losses["loss_rpn_box_reg"] = lossBox.MoveToOuterDisposeScope();
        }
        foreach (var b in boxes) b.MoveToOuterDisposeScope();
        return (boxes, losses);
    }

    /// <summary>Per level [B, A·C, H, W] → [B·T, C] in (location, anchor) order, for logits (C = 1) and deltas (C = 4).</summary>
    private static (Tensor Objectness, Tensor Deltas) Concat(IReadOnlyList<Tensor> logits, IReadOnlyList<Tensor> deltas)
    {
        var cls = new List<Tensor>();
        var reg = new List<Tensor>();
        for (int l = 0; l < logits.Count; l++)
        {
            cls.Add(PermuteAndFlatten(logits[l], 1));
            reg.Add(PermuteAndFlatten(deltas[l], 4));
        }
        return (torch.cat(cls, 1).flatten(0, -2), torch.cat(reg, 1).reshape(-1, 4));
    }

    private static Tensor PermuteAndFlatten(Tensor x, long c)
    {
        long n = x.shape[0], h = x.shape[2], w = x.shape[3];
        return x.view(n, -1, c, h, w).permute(0, 3, 4, 1, 2).reshape(n, -1, c);
    }

    private List<Tensor> FilterProposals(Tensor proposals, Tensor objectness, IReadOnlyList<ImageSize> imageSizes, long[] perLevel)
    {
        long numImages = proposals.shape[0];
        Tensor scores = objectness.detach().reshape(numImages, -1);
        Device device = proposals.device;
        Tensor levels = torch.cat(perLevel.Select((n, i) => torch.full([n], i, ScalarType.Int64, device)).ToList(), 0)
            .reshape(1, -1).expand_as(scores);

        int preNms = training ? Options.PreNmsTopNTrain : Options.PreNmsTopNTest;
        int postNms = training ? Options.PostNmsTopNTrain : Options.PostNmsTopNTest;
        var top = new List<Tensor>();
        long offset = 0;
        foreach (long n in perLevel)
        {
            long k = Math.Min(preNms, n);
            var (_, idx) = scores.narrow(1, offset, n).topk((int)k, 1);
            top.Add(idx + offset);
            offset += n;
        }
        Tensor topIdx = torch.cat(top, 1);
        scores = scores.gather(1, topIdx);
        levels = levels.gather(1, topIdx);
        proposals = proposals.gather(1, topIdx.unsqueeze(2).expand(-1, -1, 4));
        Tensor probs = scores.sigmoid();

        var result = new List<Tensor>();
        for (int b = 0; b < numImages; b++)
        {
            Tensor boxes = BoxOps.ClipToImage(proposals[b], imageSizes[b].Height, imageSizes[b].Width);
            Tensor s = probs[b], lvl = levels[b];
            Tensor keep = BoxOps.RemoveSmall(boxes, Options.MinSize);
            boxes = boxes.index_select(0, keep); s = s.index_select(0, keep); lvl = lvl.index_select(0, keep);
            keep = s.ge(Options.ScoreThresh).nonzero().flatten();
            boxes = boxes.index_select(0, keep); s = s.index_select(0, keep); lvl = lvl.index_select(0, keep);
            keep = BoxOps.BatchedNms(boxes, s, lvl, Options.NmsThresh);
            if (keep.shape[0] > postNms) keep = keep[..postNms];
            result.Add(boxes.index_select(0, keep));
        }
        return result;
    }

    private (List<Tensor> Labels, List<Tensor> MatchedGt) AssignTargets(IReadOnlyList<Tensor> anchors, IReadOnlyList<DetectionTarget> targets)
    {
        var labels = new List<Tensor>();
        var matched = new List<Tensor>();
        for (int b = 0; b < anchors.Count; b++)
        {
            Tensor a = anchors[b];
            Tensor gt = targets[b].Boxes.to(a.dtype, a.device);
            if (gt.shape[0] == 0)
            {
                matched.Add(torch.zeros_like(a));
                labels.Add(torch.zeros([a.shape[0]], a.dtype, a.device));
                continue;
            }
            Tensor idx = Matcher.Match(BoxOps.Iou(gt, a));
            matched.Add(gt.index_select(0, idx.clamp_min(0)));
            Tensor l = idx.ge(0).to(a.dtype);
            l = l.masked_fill(idx.eq(Matcher.BelowLowThreshold), 0.0).masked_fill(idx.eq(Matcher.BetweenThresholds), -1.0);
            labels.Add(l);
        }
        return (labels, matched);
    }

    private (Tensor Objectness, Tensor BoxReg) ComputeLoss(Tensor objectness, Tensor deltas, List<Tensor> labels, IReadOnlyList<Tensor> regressionTargets)
    {
        var (pos, neg) = Sampler.Sample(labels);
        Tensor posIdx = torch.cat(pos.ToList(), 0).nonzero().flatten();
        Tensor negIdx = torch.cat(neg.ToList(), 0).nonzero().flatten();
        Tensor sampled = torch.cat([posIdx, negIdx], 0);
        Tensor obj = objectness.flatten();
        Tensor allLabels = torch.cat(labels, 0);
        Tensor targets = torch.cat(regressionTargets.ToList(), 0);
        Tensor boxLoss = nn.functional.smooth_l1_loss(deltas.index_select(0, posIdx), targets.index_select(0, posIdx),
            reduction: nn.Reduction.Sum, beta: 1.0 / 9) / Math.Max(1, sampled.shape[0]);
        Tensor objLoss = nn.functional.binary_cross_entropy_with_logits(obj.index_select(0, sampled), allLabels.index_select(0, sampled));
        return (objLoss, boxLoss);
    }
}
