using Man.Runtime;
using Man.Vision.Backbones.Norm;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.ResNets;

/// <summary>
/// torchvision's <c>BasicBlock</c>: conv3×3 (stride) → norm → ReLU → conv3×3 → norm, plus the shortcut, then ReLU.
/// </summary>
/// <remarks>Shape shorthand: <c>[N, InChannels, H, W]</c> → <c>[N, Planes, H/stride, W/stride]</c>.</remarks>
public sealed class BasicBlock : ResidualBlock
{
    private readonly Conv2d conv1;
    private nn.Module<Tensor, Tensor> bn1;
    private readonly ReLU relu;
    private readonly Conv2d conv2;
    private nn.Module<Tensor, Tensor> bn2;
    private readonly Downsample? downsample;

    /// <summary>Creates the block; <paramref name="spec"/> must be of kind <see cref="BlockKind.Basic"/>.</summary>
    public BasicBlock(BlockSpec spec) : base(nameof(BasicBlock), spec)
    {
        if (spec.Kind != BlockKind.Basic) throw new ArgumentException($"A BasicBlock needs a Basic spec, got {spec.Kind}.", nameof(spec));
        if (spec.Groups != 1 || spec.BaseWidth != 64)
            throw new ArgumentException("BasicBlock only supports groups = 1 and base_width = 64 (as torchvision).", nameof(spec));
        conv1 = nn.Conv2d(spec.InChannels, spec.Planes, 3, stride: spec.Stride, padding: spec.Dilation, dilation: spec.Dilation, bias: false);
        bn1 = NormLayerFactory.Create(spec.Norm, spec.Planes);
        relu = nn.ReLU(inplace: true);
        conv2 = nn.Conv2d(spec.Planes, spec.Planes, 3, stride: 1, padding: spec.Dilation, dilation: spec.Dilation, bias: false);
        bn2 = NormLayerFactory.Create(spec.Norm, spec.Planes);
        downsample = spec.Downsample ? new Downsample(spec.InChannels, spec.OutChannels, spec.Stride, spec.Norm) : null;
        InitConv(conv1);
        InitConv(conv2);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Downsample? Shortcut => downsample;

    /// <summary>The last norm layer of the residual branch (zero-initialised with <c>zero_init_residual</c>).</summary>
    public nn.Module<Tensor, Tensor> LastNorm => bn2;

    /// <inheritdoc/>
    public override IEnumerable<(string Name, nn.Module<Tensor, Tensor> Norm)> NormLayers => [("bn1", bn1), ("bn2", bn2)];

    /// <inheritdoc/>
    public override void ReplaceNorm(string name, nn.Module<Tensor, Tensor> replacement)
    {
        switch (name)
        {
            case "bn1": bn1 = replacement; break;
            case "bn2": bn2 = replacement; break;
            default: throw new ArgumentException($"BasicBlock has no normalisation layer '{name}'.", nameof(name));
        }
        ReplaceChild(name, replacement);
    }

    /// <inheritdoc/>
    public override long ActivationElements(long h, long w)
    {
        var (oh, ow) = OutputSize(h, w);
        long plane = Spec.Planes * oh * ow;
        // conv1, bn1, relu (in place), conv2, bn2, sum/relu (in place), shortcut conv + norm.
        return plane * (4 + (Spec.Downsample ? 2 : 0));
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var identity = downsample is null ? x : downsample.forward(x);
        var y = relu.forward(bn1.forward(conv1.forward(x)));
        y = bn2.forward(conv2.forward(y));
        y.add_(identity, RootedScalars.One);
        return relu.forward(y).MoveToOuterDisposeScope();
    }
}
