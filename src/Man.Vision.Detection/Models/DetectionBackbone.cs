using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Models;

/// <summary>
/// What the detector needs from a backbone (torchvision's contract: a module returning an ordered dict of maps and an
/// <c>out_channels</c> attribute): named feature maps, finest first, all with <see cref="OutChannels"/> channels.
/// </summary>
public abstract class DetectionBackbone : nn.Module<Tensor, OrderedDictionary<string, Tensor>>
{
    /// <summary>Creates the module; <paramref name="name"/> names it.</summary>
    protected DetectionBackbone(string name) : base(name) { }

    /// <summary>Channels of every output map.</summary>
    public abstract long OutChannels { get; }

    /// <summary>Names of the output maps in order (torchvision FPN: "0", "1", "2", "3", "pool").</summary>
    public abstract IReadOnlyList<string> OutputNames { get; }
}
