using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Norm;

/// <summary>
/// A module that owns normalisation layers as direct children and can swap them for others
/// (used by <see cref="BatchNormFreezer"/>).
/// </summary>
public interface INormHost
{
    /// <summary>The direct child normalisation layers by their registered names.</summary>
    IEnumerable<(string Name, nn.Module<Tensor, Tensor> Norm)> NormLayers { get; }

    /// <summary>Replaces the child normalisation layer <paramref name="name"/> (same registered name).</summary>
    void ReplaceNorm(string name, nn.Module<Tensor, Tensor> replacement);
}
