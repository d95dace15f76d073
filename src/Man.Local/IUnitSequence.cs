using TorchSharp;
using static TorchSharp.torch;

namespace Man.Local;

/// <summary>
/// A model presented to the engine as an ordered list of units (stem, residual blocks, transformer layers, …),
/// each mapping one tensor to the next.
/// </summary>
public interface IUnitSequence
{
    /// <summary>Number of units.</summary>
    int Count { get; }

    /// <summary>Unit <paramref name="index"/>; the engine runs units in order, each on the previous one's output.</summary>
    nn.Module<Tensor, Tensor> this[int index] { get; }

    /// <summary>A short name of the unit (e.g. "stem", "layer2.3"), used in reports and parameter names.</summary>
    string UnitName(int index);

    /// <summary>
    /// Builds a new module with the architecture of unit <paramref name="index"/> (freshly initialised), used for
    /// the learnable (LB) and momentum (EMA) copies in MAN/MAN++ auxiliary networks. Parameter names must match
    /// those of the unit, since the EMA follows the unit by name.
    /// </summary>
    nn.Module<Tensor, Tensor> CreateLike(int index);
}
