using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Models;

/// <summary>
/// The backbone contract of <see cref="SegmentationModel"/>: images <c>[N, 3, H, W]</c> → the last stage's features
/// ("out") and the previous stage's ("aux"), as torchvision's <c>IntermediateLayerGetter</c> over a ResNet with dilated
/// last stages. Implementations name their children like the wrapped network (e.g. <c>conv1</c>, <c>layer4</c>) so the
/// model's state-dict keys are torchvision's (<c>backbone.layer4.0.conv1.weight</c>).
/// </summary>
public abstract class SegmentationBackbone : nn.Module<Tensor, SegmentationFeatures>
{
    /// <summary>Creates the backbone; <paramref name="name"/> names the module.</summary>
    protected SegmentationBackbone(string name) : base(name) { }

    /// <summary>Channels of <see cref="SegmentationFeatures.Out"/> (2048 for ResNet-50, 512 for ResNet-18).</summary>
    public abstract long OutChannels { get; }

    /// <summary>Channels of <see cref="SegmentationFeatures.Aux"/> (1024 for ResNet-50, 256 for ResNet-18).</summary>
    public abstract long AuxChannels { get; }

    /// <summary>Ratio of the input size to the size of <see cref="SegmentationFeatures.Out"/> (8 or 16 with dilation).</summary>
    public abstract int OutputStride { get; }
}
