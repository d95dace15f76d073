namespace Man.Vision.Backbones.Units;

/// <summary>A unit's output shape and cost, for balanced local-learning splits and reports.</summary>
/// <param name="Index">Position in the unit sequence.</param>
/// <param name="Name">"stem", "layer2.3", …</param>
/// <param name="Channels">Output channels.</param>
/// <param name="Stride">Cumulative stride of the output relative to the input.</param>
/// <param name="Height">Output height for the described input.</param>
/// <param name="Width">Output width for the described input.</param>
/// <param name="ActivationElements">
/// Estimated activation elements one sample keeps for the backward pass of this unit (the tensors its layers
/// produce); multiply by the batch size and the element size for bytes.
/// </param>
/// <param name="Parameters">Number of parameter elements of the unit.</param>
public sealed record UnitInfo(int Index, string Name, long Channels, long Stride, long Height, long Width, long ActivationElements, long Parameters)
{
    /// <summary>Elements of one sample's output (C·H·W).</summary>
    public long OutputElements => Channels * Height * Width;
}
