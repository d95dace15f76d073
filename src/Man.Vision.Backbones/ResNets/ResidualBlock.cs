using Man.Vision.Backbones.Internal;
using Man.Vision.Backbones.Norm;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.ResNets;

/// <summary>
/// A residual block: <c>relu(branch(x) + shortcut(x))</c>, named like torchvision's blocks
/// (<c>conv1</c>, <c>bn1</c>, …, <c>downsample.0</c>, <c>downsample.1</c>).
/// </summary>
public abstract class ResidualBlock : nn.Module<Tensor, Tensor>, INormHost
{
    /// <summary>Creates the block module.</summary>
    protected ResidualBlock(string name, BlockSpec spec) : base(name)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.InChannels < 1 || spec.Planes < 1 || spec.Stride < 1 || spec.Groups < 1 || spec.BaseWidth < 1 || spec.Dilation < 1)
            throw new ArgumentException($"Invalid block specification {spec}: channels, stride, groups, width and dilation must be positive.", nameof(spec));
        Spec = spec;
    }

    /// <summary>The block's construction arguments.</summary>
    public BlockSpec Spec { get; }

    /// <summary>The shortcut (1×1 convolution + norm), or null for the identity.</summary>
    public abstract Downsample? Shortcut { get; }

    /// <summary>Builds a block of the given specification.</summary>
    public static ResidualBlock Create(BlockSpec spec) => spec.Kind switch
    {
        BlockKind.Basic => new BasicBlock(spec),
        BlockKind.Bottleneck => new Bottleneck(spec),
        _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "Unknown block kind."),
    };

    /// <summary>A freshly initialised block with the same architecture and the norm layer kind it has now.</summary>
    public ResidualBlock CreateLike() => Create(Spec with { Norm = NormLayerFactory.KindOf(NormLayers.First().Norm) });

    /// <summary>Output spatial size for an input of <paramref name="h"/>×<paramref name="w"/>.</summary>
    public (long H, long W) OutputSize(long h, long w) => (ConvMath.OutputSize(h, 3, Spec.Stride, Spec.Dilation, Spec.Dilation),
                                                           ConvMath.OutputSize(w, 3, Spec.Stride, Spec.Dilation, Spec.Dilation));

    /// <summary>
    /// Estimated activation elements one sample keeps for the backward pass in this block (the tensors produced
    /// inside it: convolutions, norms, activations, shortcut, sum), for an input of <paramref name="h"/>×<paramref name="w"/>.
    /// </summary>
    public abstract long ActivationElements(long h, long w);

    /// <inheritdoc/>
    public abstract IEnumerable<(string Name, nn.Module<Tensor, Tensor> Norm)> NormLayers { get; }

    /// <inheritdoc/>
    public abstract void ReplaceNorm(string name, nn.Module<Tensor, Tensor> replacement);

    /// <summary>Registers <paramref name="replacement"/> in place of the child <paramref name="name"/>.</summary>
    protected void ReplaceChild(string name, nn.Module replacement) => ModuleSurgery.ReplaceChild(this, name, replacement);

    /// <summary>torchvision's initialisation of a convolution: Kaiming normal, fan_out, ReLU gain.</summary>
    internal static void InitConv(TorchSharp.Modules.Conv2d conv)
    {
        using var _ = no_grad();
        nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
    }
}
