using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Heads;

/// <summary>
/// The image-pooling branch of ASPP (torchvision's <c>ASPPPooling</c>): global average pool → conv1×1 (no bias) →
/// BatchNorm → ReLU → bilinear upsample (align_corners false) back to the input's spatial size.
/// </summary>
/// <remarks>Shape shorthand: <c>[N, in, h, w] → [N, out, h, w]</c>. Keys: <c>1.weight</c>, <c>2.*</c> (BatchNorm).</remarks>
public sealed class AsppPooling : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "0")] private readonly AdaptiveAvgPool2d pool;
    [ComponentName(Name = "1")] private readonly Conv2d conv;
    [ComponentName(Name = "2")] private readonly BatchNorm2d bn;
    [ComponentName(Name = "3")] private readonly ReLU relu;

    /// <summary>Creates the branch mapping <paramref name="inChannels"/> to <paramref name="outChannels"/>.</summary>
    public AsppPooling(long inChannels, long outChannels) : base(nameof(AsppPooling))
    {
        pool = nn.AdaptiveAvgPool2d(1);
        conv = nn.Conv2d(inChannels, outChannels, 1, bias: false);
        bn = nn.BatchNorm2d(outChannels);
        relu = nn.ReLU();
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long[] size = [x.shape[^2], x.shape[^1]];
        Tensor y = relu.forward(bn.forward(conv.forward(pool.forward(x))));
        return nn.functional.interpolate(y, size: size, mode: InterpolationMode.Bilinear, align_corners: false)
            .MoveToOuterDisposeScope();
    }
}
