using Man.Vision.Backbones.Norm;

namespace Man.Vision.Backbones.ResNets;

/// <summary>Everything needed to build one residual block (torchvision's block constructor arguments).</summary>
/// <param name="Kind">Basic block or bottleneck.</param>
/// <param name="InChannels">Input channels (torchvision's <c>inplanes</c>).</param>
/// <param name="Planes">torchvision's <c>planes</c>; the block outputs <c>Planes × expansion</c> channels.</param>
/// <param name="Stride">Stride of the 3×3 convolution (and of the shortcut).</param>
/// <param name="Groups">Groups of the 3×3 convolution (bottlenecks).</param>
/// <param name="BaseWidth">torchvision's <c>base_width</c> (bottlenecks).</param>
/// <param name="Dilation">Dilation (and padding) of the 3×3 convolution(s).</param>
/// <param name="Downsample">Whether the shortcut is a 1×1 convolution + norm (shape change) instead of the identity.</param>
/// <param name="Norm">The normalisation layer.</param>
public sealed record BlockSpec(
    BlockKind Kind, long InChannels, long Planes, long Stride, long Groups, long BaseWidth, long Dilation, bool Downsample, NormKind Norm)
{
    /// <summary>Channels of the block output.</summary>
    public long OutChannels => Planes * (Kind == BlockKind.Basic ? 1 : 4);

    /// <summary>Channels inside a bottleneck (torchvision: <c>int(planes · base_width / 64) · groups</c>).</summary>
    public long Width => Kind == BlockKind.Basic ? Planes : (long)(Planes * (BaseWidth / 64.0)) * Groups;
}
