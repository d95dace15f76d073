using Man.Runtime;
using Man.Local;
using Man.Vision.Detection.Anchors;
using Man.Vision.Detection.Matching;
using Man.Vision.Detection.Models;
using Man.Vision.Detection.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Detection.LocalLearning;

/// <summary>
/// Auxiliary dense detection head for an early block (RetinaNet-style, as the MAN++ detection code uses): the block
/// feature, average-pooled to at least <see cref="DenseHeadOptions.MinStride"/>, feeds a classification subnet and a
/// box subnet (each <see cref="DenseHeadOptions.ConvDepth"/> 3×3 conv + ReLU, then a 3×3 predictor) over A anchors per
/// location. Loss = sigmoid focal loss over all non-ignored anchors + smooth-L1 on the positives' deltas, each summed
/// and divided by the number of positive anchors (at least 1). An image without objects trains background only.
/// </summary>
/// <remarks>Shape shorthand: <c>[B, C, H, W]</c> → logits <c>[B, A·(K−1), H', W']</c>, deltas <c>[B, 4A, H', W']</c>; K classes with background.</remarks>
public sealed class DenseDetectionAuxHead : AuxiliaryHead<DetectionTargets>
{
    private readonly Sequential cls_subnet;
    private readonly Conv2d cls_logits;
    private readonly Sequential bbox_subnet;
    private readonly Conv2d bbox_pred;
    private readonly AnchorGenerator anchors;
    private readonly Matcher matcher;
    private readonly BoxCoder coder = new((1, 1, 1, 1));

    /// <summary>Creates the head.</summary>
    /// <param name="inChannels">Channels of the block feature.</param>
    /// <param name="numClasses">Classes including the background (as <see cref="FasterRcnnOptions.NumClasses"/>).</param>
    /// <param name="options">Head options.</param>
    public DenseDetectionAuxHead(long inChannels, int numClasses, DenseHeadOptions options) : base(nameof(DenseDetectionAuxHead))
    {
        if (inChannels <= 0) throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "Channels must be positive.");
        if (numClasses < 2) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "numClasses counts the background and must be at least 2.");
        Options = options.Validate();
        NumClasses = numClasses;
        anchors = new AnchorGenerator([options.AnchorSizes], [options.AspectRatios]);
        long a = anchors.NumAnchorsPerLocation[0];
        cls_subnet = Subnet(inChannels, options);
        cls_logits = nn.Conv2d(options.Width, a * (numClasses - 1), 3, padding: 1);
        bbox_subnet = Subnet(inChannels, options);
        bbox_pred = nn.Conv2d(options.Width, a * 4, 3, padding: 1);
        matcher = new Matcher(options.FgIouThresh, options.BgIouThresh, allowLowQualityMatches: true);
        RegisterComponents();
        using (torch.no_grad())
        {
            foreach (var (name, p) in named_parameters())
            {
                if (name.EndsWith(".weight", StringComparison.Ordinal)) nn.init.normal_(p, 0, 0.01);
                else nn.init.constant_(p, 0);
            }
            nn.init.constant_(cls_logits.bias!, -Math.Log((1 - options.PriorProbability) / options.PriorProbability));
        }
    }

    /// <summary>The options.</summary>
    public DenseHeadOptions Options { get; }

    /// <summary>Classes including the background.</summary>
    public int NumClasses { get; }

    /// <summary>Anchors per location.</summary>
    public long AnchorsPerLocation => anchors.NumAnchorsPerLocation[0];

    /// <summary>Logits <c>[B, A·(K−1), H', W']</c> and deltas <c>[B, 4A, H', W']</c> of a block feature.</summary>
    /// <param name="features">The block feature <c>[B, C, H, W]</c>.</param>
    /// <param name="batchSize">Size of the padded input batch (to know the feature's stride).</param>
    public (Tensor Logits, Tensor Deltas) Predict(Tensor features, ImageSize batchSize)
    {
        using var scope = NewDisposeScope();
        Tensor x = Pool(features, batchSize);
        return (cls_logits.call(cls_subnet.call(x)).MoveToOuterDisposeScope(), bbox_pred.call(bbox_subnet.call(x)).MoveToOuterDisposeScope());
    }

    /// <inheritdoc/>
    public override Tensor Loss(Tensor features, DetectionTargets target)
    {
        if (features.dim() != 4)
            throw new ArgumentException($"Block features must be [B, C, H, W], got [{string.Join(", ", features.shape)}].", nameof(features));
        if (features.shape[0] != target.Count)
            throw new ArgumentException($"{target.Count} targets for a batch of {features.shape[0]}.", nameof(target));
        using var scope = NewDisposeScope();
        var (logits, deltas) = Predict(features, target.BatchSize);
        long b = logits.shape[0], h = logits.shape[2], w = logits.shape[3], a = AnchorsPerLocation, k = NumClasses - 1;
        // (location, anchor) order as the anchors: [B, A·K, H, W] → [B, H·W·A, K].
        Tensor cls = logits.view(b, a, k, h, w).permute(0, 3, 4, 1, 2).reshape(b, -1, k);
        Tensor reg = deltas.view(b, a, 4, h, w).permute(0, 3, 4, 1, 2).reshape(b, -1, 4);
        Tensor grid = anchors.GridAnchors(target.BatchSize, [new ImageSize(h, w)], cls.dtype, cls.device);

        var clsLosses = new List<Tensor>();
        var boxLosses = new List<Tensor>();
        long positives = 0;
        for (int i = 0; i < b; i++)
        {
            var t = target.Targets[i];
            Tensor gt = t.Boxes.to(cls.dtype, cls.device);
            Tensor oneHot = torch.zeros_like(cls[i]);
            Tensor valid;
            if (gt.shape[0] == 0)
            {
                valid = torch.ones([grid.shape[0]], ScalarType.Bool, cls.device);
            }
            else
            {
                Tensor matched = matcher.Match(BoxOps.Iou(gt, grid));
                Tensor pos = matched.ge(0).nonzero().flatten();
                valid = matched.ne(Matcher.BetweenThresholds);
                Tensor gtIdx = matched.index_select(0, pos);
                Tensor labels = t.Labels.to(ScalarType.Int64, cls.device).index_select(0, gtIdx) - 1;
                if (labels.numel() > 0 && (labels.min().item<long>() < 0 || labels.max().item<long>() >= k))
                    throw new ArgumentException($"Target {i} has labels outside 1..{k} (with background 0 excluded).", nameof(target));
                oneHot = oneHot.index_put_(torch.ones([pos.shape[0]], cls.dtype, cls.device), pos, labels);
                Tensor codes = coder.EncodeSingle(gt.index_select(0, gtIdx), grid.index_select(0, pos));
                boxLosses.Add(nn.functional.smooth_l1_loss(reg[i].index_select(0, pos), codes, nn.Reduction.Sum, Options.SmoothL1Beta));
                positives += pos.shape[0];
            }
            Tensor keep = valid.nonzero().flatten();
            clsLosses.Add(FocalLoss.Sigmoid(cls[i].index_select(0, keep), oneHot.index_select(0, keep), Options.FocalAlpha, Options.FocalGamma));
        }
        using var norm = ((double)Math.Max(1, positives)).ToScalar(); // held: see RootedScalars
        Tensor loss = torch.stack(clsLosses).sum().div(norm);
        if (boxLosses.Count > 0) loss = loss.add(torch.stack(boxLosses).sum().div(norm), RootedScalars.One);
        return loss.MoveToOuterDisposeScope();
    }

    private Tensor Pool(Tensor features, ImageSize batchSize)
    {
        long stride = Math.Max(1, batchSize.Height / Math.Max(1, features.shape[2]));
        if (stride >= Options.MinStride) return features;
        long factor = Math.Max(1, Options.MinStride / stride);
        return nn.functional.avg_pool2d(features, factor, factor, ceil_mode: true);
    }

    private static Sequential Subnet(long inChannels, DenseHeadOptions options)
    {
        var layers = new List<nn.Module<Tensor, Tensor>>();
        long c = inChannels;
        for (int i = 0; i < options.ConvDepth; i++)
        {
            layers.Add(nn.Conv2d(c, options.Width, 3, padding: 1));
            layers.Add(nn.ReLU());
            c = options.Width;
        }
        return nn.Sequential(layers.ToArray());
    }
}
