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
    // Held in an array (not Module-typed fields) so that TorchSharp's field-based registration never adds them
    // a second time under the field names: they are registered as "0" and "1" only.
    private readonly nn.Module<Tensor, Tensor>[] parts;

    /// <summary>Creates the shortcut from <paramref name="inChannels"/> to <paramref name="outChannels"/>.</summary>
    public Downsample(long inChannels, long outChannels, long stride, NormKind normKind) : base(nameof(Downsample))
    {
        var conv = nn.Conv2d(inChannels, outChannels, kernel_size: 1, stride: stride, bias: false);
        ResidualBlock.InitConv(conv);
        parts = [conv, NormLayerFactory.Create(normKind, outChannels)];
        register_module("0", parts[0]);
        register_module("1", parts[1]);
        RegisterComponents();
    }

    /// <summary>The 1×1 convolution.</summary>
    public Conv2d Conv => (Conv2d)parts[0];

    /// <summary>The normalisation layer.</summary>
    public nn.Module<Tensor, Tensor> NormLayer => parts[1];

    /// <inheritdoc/>
    public IEnumerable<(string Name, nn.Module<Tensor, Tensor> Norm)> NormLayers => [("1", parts[1])];

    /// <inheritdoc/>
    public void ReplaceNorm(string name, nn.Module<Tensor, Tensor> replacement)
    {
        if (name != "1") throw new ArgumentException($"Downsample has no normalisation layer '{name}' (only '1').", nameof(name));
        parts[1] = replacement;
        ModuleSurgery.ReplaceChild(this, "1", replacement);
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return parts[1].forward(parts[0].forward(x)).MoveToOuterDisposeScope();
    }
}
