namespace Man.Vision.Backbones.ResNets;

/// <summary>The residual block of a ResNet.</summary>
public enum BlockKind
{
    /// <summary>Two 3×3 convolutions, expansion 1 (ResNet-18/34, CIFAR ResNets).</summary>
    Basic,

    /// <summary>1×1 → 3×3 (grouped for ResNeXt) → 1×1 convolutions, expansion 4 (ResNet-50/101/152, ResNeXt).</summary>
    Bottleneck,
}

/// <summary>The stem (first convolution) of a ResNet.</summary>
public enum StemKind
{
    /// <summary>ImageNet stem: conv 7×7 stride 2 → BN → ReLU → max-pool 3×3 stride 2 (output stride 4).</summary>
    ImageNet,

    /// <summary>CIFAR stem (He et al. 2016, §4.2): conv 3×3 stride 1 → BN → ReLU (output stride 1).</summary>
    Cifar,
}
