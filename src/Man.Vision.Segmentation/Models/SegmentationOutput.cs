using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Models;

/// <summary>Logits of a segmentation model, both at the input's size (torchvision's result dict "out" and "aux").</summary>
/// <param name="Out">Main-head logits <c>[N, classes, H, W]</c>.</param>
/// <param name="Aux">Auxiliary-head logits <c>[N, classes, H, W]</c>, or null when the model has no auxiliary head.</param>
public sealed record SegmentationOutput(Tensor Out, Tensor? Aux);
