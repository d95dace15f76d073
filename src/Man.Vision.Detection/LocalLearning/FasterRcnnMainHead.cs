using Man.Local;
using Man.Vision.Backbones.Features;
using Man.Vision.Detection.Fpn;
using Man.Vision.Detection.Heads;
using Man.Vision.Detection.Models;
using Man.Vision.Detection.Rpn;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.LocalLearning;

/// <summary>
/// The main head of a locally trained detector: FPN → RPN → RoI heads on the outputs of the backbone's stage-end units
/// (listed in <see cref="ExtraUnitOutputs"/>). Outputs of earlier blocks arrive detached, so those stages learn only
/// from their auxiliary heads, as in the MAN++ detection code. Returns torchvision's four loss names.
/// Submodules: <c>fpn</c>, <c>rpn</c>, <c>roi_heads</c> (inside a Faster R-CNN the FPN is <c>backbone.fpn</c>).
/// </summary>
public sealed class FasterRcnnMainHead : MainHead<DetectionTargets>
{
    private readonly FeaturePyramidNetwork fpn;
    private readonly RegionProposalNetwork rpn;
    private readonly RoiHeads roi_heads;
    private readonly int[] unitIndices;

    /// <summary>Creates the head.</summary>
    /// <param name="taps">The unit outputs feeding the FPN, finest first (c2..c5), renamed "0".."3".</param>
    /// <param name="options">Detector options (the transform part is not used here).</param>
    /// <param name="fpnChannels">FPN channels (256).</param>
    public FasterRcnnMainHead(IReadOnlyList<FeatureTap> taps, FasterRcnnOptions options, long fpnChannels = 256)
        : base(nameof(FasterRcnnMainHead))
    {
        options.Validate();
        if (taps.Count == 0) throw new ArgumentException("The main head needs at least one unit output.", nameof(taps));
        for (int i = 1; i < taps.Count; i++)
            if (taps[i].Stride <= taps[i - 1].Stride)
                throw new ArgumentException($"Taps must be finest first with growing strides; unit {taps[i].UnitIndex} (stride {taps[i].Stride}) follows unit {taps[i - 1].UnitIndex} (stride {taps[i - 1].Stride}).", nameof(taps));
        if (options.Rpn.AnchorSizes.Count != taps.Count + 1)
            throw new ArgumentException($"The RPN has {options.Rpn.AnchorSizes.Count} anchor levels but the FPN gives {taps.Count + 1} maps ({taps.Count} taps + pool).", nameof(options));
        Taps = taps.ToArray();
        unitIndices = taps.Select(t => t.UnitIndex).ToArray();
        fpn = new FeaturePyramidNetwork(taps.Select(t => t.Channels).ToArray(), fpnChannels, lastLevelMaxPool: true);
        rpn = new RegionProposalNetwork(fpnChannels, options.Rpn);
        roi_heads = new RoiHeads(fpnChannels, options.NumClasses, options.RoiHeads);
        Options = options;
        RegisterComponents();
    }

    /// <summary>The unit outputs feeding the FPN.</summary>
    public IReadOnlyList<FeatureTap> Taps { get; }

    /// <summary>The detector options.</summary>
    public FasterRcnnOptions Options { get; }

    /// <summary>The FPN.</summary>
    public FeaturePyramidNetwork Fpn => fpn;

    /// <summary>The RPN.</summary>
    public RegionProposalNetwork Rpn => rpn;

    /// <summary>The RoI heads.</summary>
    public RoiHeads RoiHeads => roi_heads;

    /// <inheritdoc/>
    public override IReadOnlyList<int> ExtraUnitOutputs => unitIndices;

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, Tensor> Losses(IReadOnlyDictionary<int, Tensor> outputs, Tensor last, DetectionTargets target)
    {
        using var scope = NewDisposeScope();
        var maps = new OrderedDictionary<string, Tensor>();
        for (int i = 0; i < Taps.Count; i++)
        {
            // The engine lists every requested unit (the last one too, as RunUnits does); callers that pass only `last` for c5 still work.
            Tensor? map = outputs.TryGetValue(Taps[i].UnitIndex, out Tensor? m) ? m : i == Taps.Count - 1 ? last : null;
            if (map is null)
                throw new ArgumentException($"The output of unit {Taps[i].UnitIndex} (FPN input {i}) is missing; got units {string.Join(", ", outputs.Keys)}.", nameof(outputs));
            maps.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture), map);
        }
        var features = fpn.call(maps);
        var (proposals, rpnLosses) = rpn.Forward(target.BatchSize, target.ImageSizes, features.Values.ToList(), target.Targets);
        var losses = new Dictionary<string, Tensor>(roi_heads.ComputeLosses(features, proposals, target.ImageSizes, target.Targets));
        foreach (var (k, v) in rpnLosses) losses[k] = v;
        return losses.MoveToOuter();
    }

    /// <summary>
    /// A detector for inference (or end-to-end fine-tuning) that shares this head's FPN, RPN and RoI heads with the
    /// given backbone body.
    /// </summary>
    /// <param name="backbone">The backbone whose units the head was trained on (a ResNet).</param>
    public GeneralizedRcnn CreateDetector<TBackbone>(TBackbone backbone) where TBackbone : nn.Module, IFeatureBackbone
    {
        var maps = backbone.FeatureMaps.Where(m => Taps.Any(t => t.UnitIndex == m.UnitIndex)).ToArray();
        if (maps.Length != Taps.Count)
            throw new ArgumentException($"The backbone's maps ({string.Join(", ", backbone.FeatureMaps.Select(m => $"{m.Name}@unit {m.UnitIndex}"))}) do not cover the head's taps (units {string.Join(", ", unitIndices)}).", nameof(backbone));
        string[] names = maps.Select(m => m.Name).ToArray();
        return CreateDetector(backbone, x => backbone.ForwardFeatures(x, names), maps.Select(m => new FeatureShape(m.Name, m.Channels, m.Stride)).ToArray());
    }

    /// <summary>The detector of this head on a body given as a delegate (see the other overload).</summary>
    /// <param name="body">The backbone (its units).</param>
    /// <param name="runBody">Runs the body and returns the tapped maps by name.</param>
    /// <param name="bodyMaps">The body's maps feeding the FPN, finest first (names as <paramref name="runBody"/> returns them).</param>
    public GeneralizedRcnn CreateDetector(nn.Module body, Func<Tensor, IReadOnlyDictionary<string, Tensor>> runBody, IReadOnlyList<FeatureShape> bodyMaps)
    {
        var backbone = new BackboneWithFpn(body, runBody, bodyMaps, fpn);
        return new GeneralizedRcnn(backbone, rpn, roi_heads, new GeneralizedRcnnTransform(Options.Transform));
    }
}
