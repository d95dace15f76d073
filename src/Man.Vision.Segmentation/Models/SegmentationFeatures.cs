using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Models;

/// <summary>
/// What a segmentation backbone returns (torchvision's <c>IntermediateLayerGetter</c> dict with keys "out" and "aux").
/// </summary>
/// <param name="Out">The last stage's features <c>[N, OutChannels, H/s, W/s]</c> (ResNet layer4), s the output stride.</param>
/// <param name="Aux">The previous stage's features <c>[N, AuxChannels, h, w]</c> (ResNet layer3), or null when not produced.</param>
public sealed record SegmentationFeatures(Tensor Out, Tensor? Aux);
