using Man.Vision.Backbones.Norm;

namespace Man.Vision.Backbones.ResNets;

/// <summary>
/// Architecture of a <see cref="ResNet"/>, with torchvision's defaults (those of <c>torchvision.models.ResNet</c>).
/// <see cref="ResNetFactory.Options(string)"/> gives the presets by name.
/// </summary>
public sealed record ResNetOptions
{
    /// <summary>The residual block.</summary>
    public BlockKind Block { get; init; } = BlockKind.Basic;

    /// <summary>Blocks per stage, e.g. [2, 2, 2, 2] for ResNet-18, [5, 5, 5] for CIFAR ResNet-32.</summary>
    public int[] Layers { get; init; } = [2, 2, 2, 2];

    /// <summary>
    /// "planes" of each stage (the block output is planes × expansion): [64, 128, 256, 512] for ImageNet ResNets,
    /// [16, 32, 64] for CIFAR ResNets. The stem outputs the first entry's number of channels.
    /// </summary>
    public int[] StageWidths { get; init; } = [64, 128, 256, 512];

    /// <summary>The stem.</summary>
    public StemKind Stem { get; init; } = StemKind.ImageNet;

    /// <summary>Classes of the <c>fc</c> classifier; 0 builds no classifier (a feature backbone without avgpool/fc).</summary>
    public int NumClasses { get; init; } = 1000;

    /// <summary>Groups of the 3×3 convolution of bottlenecks (ResNeXt cardinality; 1 otherwise).</summary>
    public int Groups { get; init; } = 1;

    /// <summary>Width per group of bottlenecks (torchvision's <c>width_per_group</c>, 64 for plain ResNets).</summary>
    public int WidthPerGroup { get; init; } = 64;

    /// <summary>
    /// For each stage after the first, replace its stride 2 by dilation (output stride 16 with [false, false, true],
    /// 8 with [false, true, true]). Null means none. Bottleneck blocks only, as in torchvision.
    /// </summary>
    public bool[]? ReplaceStrideWithDilation { get; init; }

    /// <summary>Zero-initialise the last BN of each residual branch so that blocks start as identities.</summary>
    public bool ZeroInitResidual { get; init; }

    /// <summary>The normalisation layer.</summary>
    public NormKind Norm { get; init; } = NormKind.BatchNorm;

    /// <summary>Input channels of the stem convolution.</summary>
    public int InChannels { get; init; } = 3;

    /// <summary>Channel multiplier of the block (1 for basic blocks, 4 for bottlenecks).</summary>
    public int Expansion => Block == BlockKind.Basic ? 1 : 4;

    /// <summary>Checks the options; throws an <see cref="ArgumentException"/> that says what is wrong.</summary>
    public void Validate()
    {
        if (Layers is null || Layers.Length == 0)
            throw new ArgumentException("ResNetOptions.Layers must list the number of blocks of at least one stage.");
        if (Layers.Length > 4)
            throw new ArgumentException($"ResNetOptions.Layers may have at most 4 stages (layer1..layer4), got {Layers.Length}.");
        if (StageWidths is null || StageWidths.Length != Layers.Length)
            throw new ArgumentException($"ResNetOptions.StageWidths must have one entry per stage ({Layers.Length}), got {StageWidths?.Length ?? 0}.");
        for (int i = 0; i < Layers.Length; i++)
        {
            if (Layers[i] < 1) throw new ArgumentException($"ResNetOptions.Layers[{i}] must be at least 1, got {Layers[i]}.");
            if (StageWidths[i] < 1) throw new ArgumentException($"ResNetOptions.StageWidths[{i}] must be positive, got {StageWidths[i]}.");
        }
        if (NumClasses < 0) throw new ArgumentException($"ResNetOptions.NumClasses must be 0 (no classifier) or positive, got {NumClasses}.");
        if (InChannels < 1) throw new ArgumentException($"ResNetOptions.InChannels must be positive, got {InChannels}.");
        if (Groups < 1 || WidthPerGroup < 1)
            throw new ArgumentException($"ResNetOptions.Groups and WidthPerGroup must be positive, got {Groups} and {WidthPerGroup}.");
        if (Block == BlockKind.Basic && (Groups != 1 || WidthPerGroup != 64))
            throw new ArgumentException($"Basic blocks only support Groups = 1 and WidthPerGroup = 64 (as torchvision), got {Groups} and {WidthPerGroup}.");
        if (ReplaceStrideWithDilation is not null)
        {
            if (ReplaceStrideWithDilation.Length != Layers.Length - 1)
                throw new ArgumentException(
                    $"ResNetOptions.ReplaceStrideWithDilation must have {Layers.Length - 1} entries (one per stage after the first), got {ReplaceStrideWithDilation.Length}.");
            if (Block == BlockKind.Basic && ReplaceStrideWithDilation.Any(d => d))
                throw new ArgumentException("Dilation > 1 is not supported with basic blocks (as torchvision); use a bottleneck ResNet (ResNet-50 or deeper).");
        }
    }
}
