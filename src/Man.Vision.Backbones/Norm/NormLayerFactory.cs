using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Norm;

/// <summary>Builds the normalisation layer of a <see cref="NormKind"/>.</summary>
public static class NormLayerFactory
{
    /// <summary>A new normalisation layer over <paramref name="channels"/> channels (identity statistics).</summary>
    public static nn.Module<Tensor, Tensor> Create(NormKind kind, long channels) => kind switch
    {
        NormKind.BatchNorm => nn.BatchNorm2d(channels),
        NormKind.FrozenBatchNorm => new FrozenBatchNorm2d(channels),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown normalisation kind."),
    };

    /// <summary>The kind of an existing normalisation layer.</summary>
    /// <exception cref="ArgumentException">The module is neither a BatchNorm2d nor a FrozenBatchNorm2d.</exception>
    public static NormKind KindOf(nn.Module norm) => norm switch
    {
        TorchSharp.Modules.BatchNorm2d => NormKind.BatchNorm,
        FrozenBatchNorm2d => NormKind.FrozenBatchNorm,
        _ => throw new ArgumentException($"{norm.GetType().Name} is not a normalisation layer of this library.", nameof(norm)),
    };
}
