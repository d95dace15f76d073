namespace Man.Vision.Backbones.Features;

/// <summary>A named feature map of a backbone (detectron2's <c>ShapeSpec</c> plus where it comes from).</summary>
/// <param name="Name">"c2".."c5" for the outputs of ResNet stages layer1..layer4.</param>
/// <param name="Channels">Channels of the map.</param>
/// <param name="Stride">Total stride relative to the input (4, 8, 16, 32 for an ImageNet ResNet without dilation).</param>
/// <param name="UnitIndex">Index of the unit (in the backbone's unit sequence) whose output is this map.</param>
public sealed record FeatureMapSpec(string Name, long Channels, long Stride, int UnitIndex);
