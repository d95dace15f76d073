using static TorchSharp.torch;

namespace Man.Vision.Data.Transforms;

/// <summary>
/// A transform of a whole batch of images, <c>[N, C, H, W]</c> float, drawing its random numbers from the batch's
/// generator (so the result is a function of the input and the seed).
/// </summary>
public interface IBatchTransform
{
    /// <summary>Transforms <paramref name="images"/> ([N, C, H, W] float); the result is created in the caller's dispose scope.</summary>
    /// <param name="images">The batch; not modified.</param>
    /// <param name="random">The batch's generator; numbers are drawn in sample order.</param>
    Tensor Apply(Tensor images, Random random);
}
