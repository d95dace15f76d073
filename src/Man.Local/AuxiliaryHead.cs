using TorchSharp;
using static TorchSharp.torch;

namespace Man.Local;

/// <summary>
/// A task's auxiliary head for an early block: it turns the block's (possibly fused) features into a local loss.
/// </summary>
/// <typeparam name="TTarget">The task's target type (class labels, boxes, label maps, …).</typeparam>
public abstract class AuxiliaryHead<TTarget> : nn.Module
{
    /// <summary>Creates the head; <paramref name="name"/> names the module.</summary>
    protected AuxiliaryHead(string name) : base(name) { }

    /// <summary>The local loss (a scalar) of <paramref name="features"/> <c>[N, C, …]</c> against the targets.</summary>
    public abstract Tensor Loss(Tensor features, TTarget target);
}

/// <summary>What an auxiliary head is built for: the block and the shape of the features it receives.</summary>
/// <param name="Block">Index of the block (0-based) whose output the head learns from.</param>
/// <param name="Shape">Shape of one sample's features, without the batch dimension (e.g. [C, H, W]).</param>
/// <param name="InputShape">Shape of one sample of the model input, without the batch dimension.</param>
public sealed record AuxiliaryHeadContext(int Block, long[] Shape, long[] InputShape)
{
    /// <summary>Channels of the features (the first entry of <see cref="Shape"/>).</summary>
    public long Channels => Shape[0];
}
