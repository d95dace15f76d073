using Man.Vision.Backbones.Norm;
using Man.Vision.Backbones.ResNets;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Models;

/// <summary>
/// A <see cref="ResNet"/> as a segmentation backbone, as torchvision's <c>IntermediateLayerGetter(backbone,
/// {"layer4": "out", "layer3": "aux"})</c>: the ResNet's children except <c>avgpool</c>/<c>fc</c> are registered here
/// under their own names, so a <see cref="SegmentationModel"/>'s keys are torchvision's (<c>backbone.conv1.weight</c>,
/// <c>backbone.layer4.2.bn3.running_var</c>, …).
/// </summary>
/// <remarks>
/// The modules are shared with <see cref="ResNet"/>, which stays usable as the unit sequence of local learning
/// (<see cref="AuxUnitIndex"/> and <see cref="LastUnitIndex"/> locate layer3 and layer4 in it). Replace norm layers on the
/// ResNet before wrapping it.
/// </remarks>
public sealed class ResNetSegmentationBackbone : SegmentationBackbone
{
    // A plain holder, not a Module field, so that RegisterComponents does not register the ResNet a second time.
    private sealed class Holder(ResNet net)
    {
        public ResNet Net { get; } = net;
    }

    private readonly Holder holder;

    /// <summary>Wraps a four-stage ResNet (ImageNet stem; layer3 = "aux", layer4 = "out").</summary>
    /// <exception cref="ArgumentException">The ResNet does not have four stages.</exception>
    public ResNetSegmentationBackbone(ResNet resnet) : base(nameof(ResNetSegmentationBackbone))
    {
        if (resnet.StageCount != 4)
            throw new ArgumentException($"A segmentation backbone needs a ResNet with four stages (layer1..layer4); this one has {resnet.StageCount}.", nameof(resnet));
        holder = new Holder(resnet);
        foreach (var (name, child) in resnet.named_children())
        {
            if (name is "avgpool" or "fc") continue;
            register_module(name, child);
        }
        var maps = resnet.FeatureMaps;
        AuxChannels = maps[2].Channels;
        OutChannels = maps[3].Channels;
        OutputStride = checked((int)maps[3].Stride);
        AuxUnitIndex = maps[2].UnitIndex;
        LastUnitIndex = maps[3].UnitIndex;
        RegisterComponents();
    }

    /// <summary>
    /// Builds <paramref name="arch"/> (resnet18/34/50/101/152, resnext…) without classifier, with the stride of the last
    /// stages replaced by dilation for <paramref name="outputStride"/> 8 (layer3 and layer4, torchvision's segmentation
    /// models) or 16 (layer4); 32 keeps the plain network (the only choice for basic-block ResNet-18/34).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown architecture, an output stride other than 8/16/32, or dilation on basic blocks.</exception>
    public static ResNetSegmentationBackbone Create(string arch, int outputStride = 8, NormKind norm = NormKind.BatchNorm)
    {
        bool[]? dilation = outputStride switch
        {
            8 => [false, true, true],
            16 => [false, false, true],
            32 => null,
            _ => throw new ArgumentOutOfRangeException(nameof(outputStride), outputStride, "The output stride must be 8, 16 or 32."),
        };
        var options = ResNetFactory.Options(arch);
        if (dilation is not null && options.Block == BlockKind.Basic)
            throw new ArgumentException(
                $"{arch} has basic blocks, which cannot be dilated (as in torchvision): use output stride 32 or a bottleneck ResNet (resnet50 and deeper).",
                nameof(outputStride));
        return new ResNetSegmentationBackbone(new ResNet(options with { NumClasses = 0, Norm = norm, ReplaceStrideWithDilation = dilation }));
    }

    /// <summary>The wrapped ResNet (its unit sequence for local learning).</summary>
    public ResNet ResNet => holder.Net;

    /// <inheritdoc/>
    public override long OutChannels { get; }

    /// <inheritdoc/>
    public override long AuxChannels { get; }

    /// <inheritdoc/>
    public override int OutputStride { get; }

    /// <summary>Index of the unit ending layer3 in <see cref="ResNet"/>'s unit sequence (the "aux" features).</summary>
    public int AuxUnitIndex { get; }

    /// <summary>Index of the unit ending layer4 (the last unit).</summary>
    public int LastUnitIndex { get; }

    /// <inheritdoc/>
    public override SegmentationFeatures forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var maps = holder.Net.ForwardFeatures(images, ["c4", "c5"]);
        return new SegmentationFeatures(maps["c5"].MoveToOuterDisposeScope(), maps["c4"].MoveToOuterDisposeScope());
    }
}
