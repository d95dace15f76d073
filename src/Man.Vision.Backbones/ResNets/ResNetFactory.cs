using Man.Vision.Backbones.Norm;

namespace Man.Vision.Backbones.ResNets;

/// <summary>Builds the ResNet family by torchvision's architecture names (plus the CIFAR ResNets resnet32/resnet110).</summary>
public static class ResNetFactory
{
    private static readonly ResNetOptions Cifar = new()
    {
        Block = BlockKind.Basic,
        StageWidths = [16, 32, 64],
        Stem = StemKind.Cifar,
        NumClasses = 10,
    };

    private static readonly Dictionary<string, ResNetOptions> Presets = new(StringComparer.OrdinalIgnoreCase)
    {
        ["resnet18"] = new() { Block = BlockKind.Basic, Layers = [2, 2, 2, 2] },
        ["resnet34"] = new() { Block = BlockKind.Basic, Layers = [3, 4, 6, 3] },
        ["resnet50"] = new() { Block = BlockKind.Bottleneck, Layers = [3, 4, 6, 3] },
        ["resnet101"] = new() { Block = BlockKind.Bottleneck, Layers = [3, 4, 23, 3] },
        ["resnet152"] = new() { Block = BlockKind.Bottleneck, Layers = [3, 8, 36, 3] },
        ["resnext50_32x4d"] = new() { Block = BlockKind.Bottleneck, Layers = [3, 4, 6, 3], Groups = 32, WidthPerGroup = 4 },
        ["resnext101_32x8d"] = new() { Block = BlockKind.Bottleneck, Layers = [3, 4, 23, 3], Groups = 32, WidthPerGroup = 8 },
        ["resnet32"] = Cifar with { Layers = [5, 5, 5] },
        ["resnet110"] = Cifar with { Layers = [18, 18, 18] },
    };

    /// <summary>The architecture names, in a stable order.</summary>
    public static IReadOnlyList<string> Architectures { get; } =
        ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d", "resnet32", "resnet110"];

    /// <summary>The preset options of <paramref name="arch"/> (customise them with <c>with { … }</c>).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static ResNetOptions Options(string arch)
    {
        ArgumentNullException.ThrowIfNull(arch);
        if (!Presets.TryGetValue(arch.Trim(), out var options))
            throw new ArgumentException($"Unknown architecture '{arch}'. Valid names: {string.Join(", ", Architectures)}.", nameof(arch));
        return options with { Layers = (int[])options.Layers.Clone(), StageWidths = (int[])options.StageWidths.Clone() };
    }

    /// <summary>Builds <paramref name="arch"/> with the given options (torchvision's keyword arguments).</summary>
    /// <param name="arch">resnet18/34/50/101/152, resnext50_32x4d, resnext101_32x8d, resnet32, resnet110.</param>
    /// <param name="numClasses">Classes of <c>fc</c> (default 1000 for ImageNet models, 10 for CIFAR ones; 0 for none).</param>
    /// <param name="norm">BatchNorm2d or FrozenBatchNorm2d.</param>
    /// <param name="replaceStrideWithDilation">Dilation instead of stride for stages 2..4 (bottleneck models).</param>
    /// <param name="zeroInitResidual">Zero-initialise the last norm of each residual branch.</param>
    /// <exception cref="ArgumentException">Unknown name (the valid ones are listed) or inconsistent options.</exception>
    public static ResNet Create(string arch, int? numClasses = null, NormKind norm = NormKind.BatchNorm,
                                bool[]? replaceStrideWithDilation = null, bool zeroInitResidual = false)
    {
        var options = Options(arch);
        options = options with
        {
            NumClasses = numClasses ?? options.NumClasses,
            Norm = norm,
            ReplaceStrideWithDilation = replaceStrideWithDilation,
            ZeroInitResidual = zeroInitResidual,
        };
        return new ResNet(options);
    }

    /// <summary>Builds <paramref name="arch"/> with its preset options changed by <paramref name="configure"/>.</summary>
    public static ResNet Create(string arch, Func<ResNetOptions, ResNetOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return new ResNet(configure(Options(arch)));
    }
}
