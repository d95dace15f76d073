using TorchSharp;
using static TorchSharp.torch;

namespace Man.Local;

/// <summary>
/// The task's real head, trained with the last block. It sees the outputs of the units it asked for:
/// those of earlier blocks detached (no gradient reaches earlier blocks), those of the last block attached.
/// </summary>
/// <typeparam name="TTarget">The task's target type.</typeparam>
public abstract class MainHead<TTarget> : nn.Module
{
    /// <summary>Creates the head; <paramref name="name"/> names the module.</summary>
    protected MainHead(string name) : base(name) { }

    /// <summary>
    /// Indices of the units whose outputs <see cref="Losses"/> needs besides the last one (e.g. the ends of
    /// ResNet stages for an FPN). Empty for a head that uses the last unit's output only.
    /// </summary>
    public virtual IReadOnlyList<int> ExtraUnitOutputs => [];

    /// <summary>
    /// Named losses (each a scalar; the engine back-propagates their sum).
    /// </summary>
    /// <param name="outputs">Unit index → output, holding the last unit and every index of <see cref="ExtraUnitOutputs"/>.</param>
    /// <param name="last">Output of the last unit.</param>
    /// <param name="target">The targets.</param>
    public abstract IReadOnlyDictionary<string, Tensor> Losses(IReadOnlyDictionary<int, Tensor> outputs, Tensor last, TTarget target);
}
