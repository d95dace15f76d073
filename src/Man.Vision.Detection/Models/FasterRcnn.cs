using Man.Vision.Backbones.FineTuning;
using Man.Vision.Backbones.Norm;
using Man.Vision.Backbones.ResNets;
using Man.Vision.Detection.Fpn;
using Man.Vision.Detection.Heads;
using Man.Vision.Detection.Rpn;

namespace Man.Vision.Detection.Models;

/// <summary>Builds Faster R-CNN models from options (torchvision's <c>FasterRCNN</c> constructor defaults).</summary>
public static class FasterRcnn
{
    /// <summary>
    /// A Faster R-CNN on <paramref name="backbone"/> (e.g. a ResNet with FPN): an RPN with one anchor level per backbone
    /// output, RoI heads pooling from <see cref="RoiHeadsOptions.FeatureNames"/>, and the transform.
    /// </summary>
    /// <exception cref="ArgumentException">The anchor levels do not match the backbone outputs, or a pooled map is not produced.</exception>
    public static GeneralizedRcnn Create(FasterRcnnOptions options, DetectionBackbone backbone)
    {
        options.Validate();
        if (options.Rpn.AnchorSizes.Count != backbone.OutputNames.Count)
            throw new ArgumentException($"The RPN has {options.Rpn.AnchorSizes.Count} anchor levels but the backbone gives {backbone.OutputNames.Count} maps ({string.Join(", ", backbone.OutputNames)}).");
        foreach (string name in options.RoiHeads.FeatureNames)
            if (!backbone.OutputNames.Contains(name))
                throw new ArgumentException($"The RoI heads pool from '{name}', which the backbone does not produce ({string.Join(", ", backbone.OutputNames)}).");
        var rpn = new RegionProposalNetwork(backbone.OutChannels, options.Rpn);
        var roiHeads = new RoiHeads(backbone.OutChannels, options.NumClasses, options.RoiHeads);
        return new GeneralizedRcnn(backbone, rpn, roiHeads, new GeneralizedRcnnTransform(options.Transform));
    }

    /// <summary>
    /// torchvision's <c>fasterrcnn_resnet50_fpn</c> layout for any ResNet of the backbones library: the ResNet without
    /// classifier under <c>backbone.body</c> with frozen batch norm, an FPN of 256 channels over c2..c5 plus "pool",
    /// and the default heads. Weights are fresh; load torchvision's (e.g. with <c>WeightLoader</c>) as needed.
    /// </summary>
    /// <param name="options">Detector options.</param>
    /// <param name="architecture">resnet18/34/50/101/152, resnext50_32x4d, resnext101_32x8d.</param>
    /// <param name="trainableBackboneLayers">Trainable stages counted from layer4 (0..5, torchvision default 3: conv1 and layer1 frozen).</param>
    /// <param name="frozenBatchNorm">Frozen batch norm in the backbone (torchvision: yes).</param>
    /// <param name="returnedLayers">
    /// Stages feeding the FPN (torchvision's <c>returned_layers</c>, 1..4; null for all). The RPN's anchor levels and the
    /// RoI heads' map names in <paramref name="options"/> must fit: one anchor level per stage plus "pool".
    /// </param>
    public static GeneralizedRcnn CreateResNetFpn(FasterRcnnOptions options, string architecture = "resnet50",
        int trainableBackboneLayers = 3, bool frozenBatchNorm = true, IReadOnlyList<int>? returnedLayers = null)
    {
        if (trainableBackboneLayers is < 0 or > 5)
            throw new ArgumentOutOfRangeException(nameof(trainableBackboneLayers), trainableBackboneLayers, "Trainable backbone layers must be in 0..5.");
        foreach (int l in returnedLayers ?? [])
            if (l is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(returnedLayers), l, "Returned layers must lie in 1..4.");
        var resnet = CreateResNetBody(architecture, frozenBatchNorm ? NormKind.FrozenBatchNorm : NormKind.BatchNorm,
            returnedLayers is { Count: > 0 } ? returnedLayers.Max() : 4);
        // detectron2's FREEZE_AT: 5 − trainable stages (stem = 1, layer1 = 2, …).
        FineTuner.FreezeAt(resnet, 5 - trainableBackboneLayers);
        var maps = resnet.FeatureMaps;
        var names = returnedLayers?.Select(l => maps[l - 1].Name).ToArray();
        return Create(options, BackboneWithFpn.FromFeatureBackbone(resnet, 256, names));
    }

    /// <summary>
    /// The body of a ResNet-FPN detector: <paramref name="architecture"/> (an ImageNet ResNet with 4 stages) without
    /// classifier, kept up to stage <paramref name="stages"/> — torchvision's <c>IntermediateLayerGetter</c> drops the
    /// stages after the last returned layer, so returned layers [2, 3] build no layer4 (its pretrained weights then load
    /// as unexpected keys).
    /// </summary>
    /// <exception cref="ArgumentException">Not a 4-stage ResNet, or <paramref name="stages"/> outside 1..4.</exception>
    public static ResNet CreateResNetBody(string architecture, NormKind norm, int stages = 4)
    {
        var preset = ResNetFactory.Options(architecture);
        if (preset.Layers.Length != 4)
            throw new ArgumentException($"'{architecture}' has {preset.Layers.Length} stages; the FPN detector needs an ImageNet ResNet with 4.", nameof(architecture));
        if (stages is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(stages), stages, "A ResNet-FPN body keeps 1..4 stages.");
        return stages == 4
            ? ResNetFactory.Create(architecture, numClasses: 0, norm: norm)
            : ResNetFactory.Create(architecture, o => o with { NumClasses = 0, Norm = norm, Layers = o.Layers[..stages], StageWidths = o.StageWidths[..stages] });
    }
}
