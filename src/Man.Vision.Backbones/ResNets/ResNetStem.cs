using Man.Vision.Backbones.Internal;
using Man.Vision.Backbones.Norm;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.ResNets;

/// <summary>
/// The stem as one unit: <c>conv1 → bn1 → relu (→ maxpool)</c>. Its children carry the names they have in the
/// whole model (<c>conv1.weight</c>, <c>bn1.running_mean</c>, …); inside a <see cref="ResNet"/> it references the
/// model's own layers without being registered in the model, so the model's state dict keeps torchvision's keys.
/// </summary>
/// <remarks>Shape shorthand: <c>[N, InChannels, H, W]</c> → <c>[N, C, H/4, W/4]</c> (ImageNet) or <c>[N, C, H, W]</c> (CIFAR).</remarks>
public sealed class ResNetStem : nn.Module<Tensor, Tensor>, INormHost
{
    private readonly Conv2d conv1;
    private nn.Module<Tensor, Tensor> bn1;
    private readonly ReLU relu;
    private readonly MaxPool2d? maxpool;

    /// <summary>A new, freshly initialised stem.</summary>
    public ResNetStem(StemKind kind, long inChannels, long outChannels, NormKind norm)
        : this(kind, CreateConv(kind, inChannels, outChannels), NormLayerFactory.Create(norm, outChannels))
    {
    }

    /// <summary>A stem over existing layers (shared, not copied).</summary>
    internal ResNetStem(StemKind kind, Conv2d conv, nn.Module<Tensor, Tensor> norm) : base(nameof(ResNetStem))
    {
        Kind = kind;
        conv1 = conv;
        bn1 = norm;
        relu = nn.ReLU(inplace: true);
        maxpool = kind == StemKind.ImageNet ? nn.MaxPool2d(kernel_size: 3, stride: 2, padding: 1) : null;
        RegisterComponents();
    }

    /// <summary>ImageNet or CIFAR stem.</summary>
    public StemKind Kind { get; }

    /// <summary>Input channels.</summary>
    public long InChannels => conv1.weight!.shape[1];

    /// <summary>Output channels.</summary>
    public long OutChannels => conv1.weight!.shape[0];

    /// <summary>The total stride (4 for ImageNet, 1 for CIFAR).</summary>
    public long Stride => Kind == StemKind.ImageNet ? 4 : 1;

    /// <summary>The first convolution.</summary>
    public Conv2d Conv1 => conv1;

    /// <summary>The first norm layer.</summary>
    public nn.Module<Tensor, Tensor> Bn1 => bn1;

    internal static Conv2d CreateConv(StemKind kind, long inChannels, long outChannels)
    {
        var conv = kind == StemKind.ImageNet
            ? nn.Conv2d(inChannels, outChannels, 7, stride: 2, padding: 3, bias: false)
            : nn.Conv2d(inChannels, outChannels, 3, stride: 1, padding: 1, bias: false);
        ResidualBlock.InitConv(conv);
        return conv;
    }

    /// <summary>A freshly initialised stem of the same architecture and current norm kind.</summary>
    public ResNetStem CreateLike() => new(Kind, InChannels, OutChannels, NormLayerFactory.KindOf(bn1));

    /// <summary>Output spatial size for an input of <paramref name="h"/>×<paramref name="w"/>.</summary>
    public (long H, long W) OutputSize(long h, long w)
    {
        var (ch, cw) = ConvSize(h, w);
        return Kind == StemKind.ImageNet ? (ConvMath.OutputSize(ch, 3, 2, 1), ConvMath.OutputSize(cw, 3, 2, 1)) : (ch, cw);
    }

    /// <summary>Estimated activation elements one sample keeps for backward (conv, norm, pooled output).</summary>
    public long ActivationElements(long h, long w)
    {
        var (ch, cw) = ConvSize(h, w);
        var (oh, ow) = OutputSize(h, w);
        long c = OutChannels;
        return 2 * c * ch * cw + (Kind == StemKind.ImageNet ? c * oh * ow : 0);
    }

    private (long H, long W) ConvSize(long h, long w) => Kind == StemKind.ImageNet
        ? (ConvMath.OutputSize(h, 7, 2, 3), ConvMath.OutputSize(w, 7, 2, 3))
        : (h, w);

    /// <inheritdoc/>
    public IEnumerable<(string Name, nn.Module<Tensor, Tensor> Norm)> NormLayers => [("bn1", bn1)];

    /// <inheritdoc/>
    public void ReplaceNorm(string name, nn.Module<Tensor, Tensor> replacement)
    {
        if (name != "bn1") throw new ArgumentException($"The stem has no normalisation layer '{name}' (only 'bn1').", nameof(name));
        if (ownerReplace is not null) ownerReplace(replacement); // the model swaps its bn1, then ours
        else SetNorm(replacement);
    }

    // Set by the model sharing conv1/bn1 with this stem (a delegate, so it is never taken for a child module).
    private Action<nn.Module<Tensor, Tensor>>? ownerReplace;

    internal void SetOwner(Action<nn.Module<Tensor, Tensor>> replaceNorm) => ownerReplace = replaceNorm;

    internal void SetNorm(nn.Module<Tensor, Tensor> replacement)
    {
        bn1 = replacement;
        ModuleSurgery.ReplaceChild(this, "bn1", replacement);
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = relu.forward(bn1.forward(conv1.forward(x)));
        if (maxpool is not null) y = maxpool.forward(y);
        return y.MoveToOuterDisposeScope();
    }
}
