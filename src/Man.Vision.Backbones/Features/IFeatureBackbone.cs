using static TorchSharp.torch;

namespace Man.Vision.Backbones.Features;

/// <summary>
/// A backbone for detection and segmentation (detectron2's <c>Backbone</c> contract): named feature maps out, with
/// their channels and strides known before any forward pass, so that FPNs and heads are built from the shapes.
/// </summary>
public interface IFeatureBackbone
{
    /// <summary>The feature maps, finest first ("c2".."c5" for a ResNet).</summary>
    IReadOnlyList<FeatureMapSpec> FeatureMaps { get; }

    /// <summary>Input sizes should be multiples of this (the largest stride), 0 when anything goes.</summary>
    int SizeDivisibility { get; }

    /// <summary>
    /// Runs the backbone and returns the maps named in <paramref name="names"/> (all when null), each
    /// <c>[N, Channels, ⌈H/Stride⌉, ⌈W/Stride⌉]</c>.
    /// </summary>
    IReadOnlyDictionary<string, Tensor> ForwardFeatures(Tensor images, IReadOnlyCollection<string>? names = null);
}
