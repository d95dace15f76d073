using Man.Runtime;
using Man.Vision.Backbones.Internal;
using Man.Vision.Backbones.Norm;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.ResNets;

/// <summary>
/// torchvision's <c>Bottleneck</c> (ResNet v1.5: the stride sits on the 3×3 convolution): conv1×1 → norm → ReLU →
/// conv3×3 (stride, groups, dilation) → norm → ReLU → conv1×1 → norm, plus the shortcut, then ReLU.
/// </summary>
/// <remarks>Shape shorthand: <c>[N, InChannels, H, W]</c> → <c>[N, 4·Planes, H/stride, W/stride]</c>.</remarks>
public sealed class Bottleneck : ResidualBlock
{
    private readonly Conv2d conv1;
    private nn.Module<Tensor, Tensor> bn1;
    private readonly Conv2d conv2;
    private nn.Module<Tensor, Tensor> bn2;
    private readonly Conv2d conv3;
    private nn.Module<Tensor, Tensor> bn3;
    private readonly ReLU relu;
    private readonly Downsample? downsample;

    /// <summary>Creates the block; <paramref name="spec"/> must be of kind <see cref="BlockKind.Bottleneck"/>.</summary>
    public Bottleneck(BlockSpec spec) : base(nameof(Bottleneck), spec)
    {
        if (spec.Kind != BlockKind.Bottleneck) throw new ArgumentException($"A Bottleneck needs a Bottleneck spec, got {spec.Kind}.", nameof(spec));
        long width = spec.Width;
        if (width < 1 || width % spec.Groups != 0)
            throw new ArgumentException($"Bottleneck width {width} must be a positive multiple of groups {spec.Groups}.", nameof(spec));
        conv1 = nn.Conv2d(spec.InChannels, width, 1, bias: false);
        bn1 = NormLayerFactory.Create(spec.Norm, width);
        conv2 = nn.Conv2d(width, width, 3, stride: spec.Stride, padding: spec.Dilation, dilation: spec.Dilation, groups: spec.Groups, bias: false);
        bn2 = NormLayerFactory.Create(spec.Norm, width);
        conv3 = nn.Conv2d(width, spec.OutChannels, 1, bias: false);
        bn3 = NormLayerFactory.Create(spec.Norm, spec.OutChannels);
        relu = nn.ReLU(inplace: true);
        downsample = spec.Downsample ? new Downsample(spec.InChannels, spec.OutChannels, spec.Stride, spec.Norm) : null;
        InitConv(conv1);
        InitConv(conv2);
        InitConv(conv3);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Downsample? Shortcut => downsample;

    /// <summary>The last norm layer of the residual branch (zero-initialised with <c>zero_init_residual</c>).</summary>
    public nn.Module<Tensor, Tensor> LastNorm => bn3;

    /// <inheritdoc/>
    public override IEnumerable<(string Name, nn.Module<Tensor, Tensor> Norm)> NormLayers => [("bn1", bn1), ("bn2", bn2), ("bn3", bn3)];

    /// <inheritdoc/>
    public override void ReplaceNorm(string name, nn.Module<Tensor, Tensor> replacement)
    {
        switch (name)
        {
            case "bn1": bn1 = replacement; break;
            case "bn2": bn2 = replacement; break;
            case "bn3": bn3 = replacement; break;
            default: throw new ArgumentException($"Bottleneck has no normalisation layer '{name}'.", nameof(name));
        }
        ReplaceChild(name, replacement);
    }

    /// <inheritdoc/>
    public override long ActivationElements(long h, long w)
    {
        var (oh, ow) = OutputSize(h, w);
        long inner = Spec.Width * h * w;          // conv1, bn1 at the input resolution
        long middle = Spec.Width * oh * ow;       // conv2, bn2
        long outer = Spec.OutChannels * oh * ow;  // conv3, bn3, shortcut conv + norm
        return 2 * inner + 2 * middle + outer * (2 + (Spec.Downsample ? 2 : 0));
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var identity = downsample is null ? x : downsample.forward(x);
        var y = relu.forward(bn1.forward(conv1.forward(x)));
        y = relu.forward(bn2.forward(conv2.forward(y)));
        y = bn3.forward(conv3.forward(y));
        y.add_(identity, RootedScalars.One);
        return relu.forward(y).MoveToOuterDisposeScope();
    }
}
