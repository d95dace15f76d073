using Man.Vision.Backbones.Internal;
using Man.Vision.Backbones.Norm;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.ResNets;

/// <summary>
/// The projection shortcut of a residual block: 1×1 convolution (no bias) with the block's stride, then a norm
/// layer; registered as <c>0</c> and <c>1</c> like torchvision's <c>nn.Sequential</c> (<c>downsample.0.weight</c>, …).
/// </summary>
public sealed class Downsample : nn.Module<Tensor, Tensor>, INormHost
{
    private readonly Conv2d conv;
    private nn.Module<Tensor, Tensor> norm;

    /// <summary>Creates the shortcut from <paramref name="inChannels"/> to <paramref name="outChannels"/>.</summary>
    public Downsample(long inChannels, long outChannels, long stride, NormKind normKind) : base(nameof(Downsample))
    {
        conv = nn.Conv2d(inChannels, outChannels, kernel_size: 1, stride: stride, bias: false);
        norm = NormLayerFactory.Create(normKind, outChannels);
        ResidualBlock.InitConv(conv);
        // Registered by index (not RegisterComponents) so that the names are torchvision's "0" and "1".
        register_module("0", conv);
        register_module("1", norm);
    }

    /// <summary>The 1×1 convolution.</summary>
    public Conv2d Conv => conv;

    /// <summary>The normalisation layer.</summary>
    public nn.Module<Tensor, Tensor> NormLayer => norm;

    /// <inheritdoc/>
    public IEnumerable<(string Name, nn.Module<Tensor, Tensor> Norm)> NormLayers => [("1", norm)];

    /// <inheritdoc/>
    public void ReplaceNorm(string name, nn.Module<Tensor, Tensor> replacement)
    {
        if (name != "1") throw new ArgumentException($"Downsample has no normalisation layer '{name}' (only '1').", nameof(name));
        norm = replacement;
        ModuleSurgery.ReplaceChild(this, "1", replacement);
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return norm.forward(conv.forward(x)).MoveToOuterDisposeScope();
    }
}
