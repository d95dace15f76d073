using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Ops;

/// <summary>Focal loss (Lin et al., RetinaNet), as <c>torchvision.ops.sigmoid_focal_loss</c>.</summary>
public static class FocalLoss
{
    /// <summary>
    /// <c>α_t · (1 − p_t)^γ · BCE(x, t)</c> with p = sigmoid(x), p_t = p·t + (1 − p)(1 − t), α_t = α·t + (1 − α)(1 − t).
    /// </summary>
    /// <param name="logits">Logits of any shape.</param>
    /// <param name="targets">Binary targets (0/1) of the same shape, same float dtype.</param>
    /// <param name="alpha">Weight of positives in (0, 1), or a negative value for none (0.25).</param>
    /// <param name="gamma">Focusing exponent ≥ 0 (2).</param>
    /// <param name="reduction">None, mean or sum (sum is what RetinaNet normalises by the positives).</param>
    public static Tensor Sigmoid(Tensor logits, Tensor targets, double alpha = 0.25, double gamma = 2, nn.Reduction reduction = nn.Reduction.Sum)
    {
        if (!logits.shape.SequenceEqual(targets.shape))
            throw new ArgumentException($"Logits [{string.Join(", ", logits.shape)}] and targets [{string.Join(", ", targets.shape)}] differ in shape.", nameof(targets));
        if (!(gamma >= 0)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be ≥ 0.");
        using var scope = NewDisposeScope();
        // The scalars are held until the method returns (a temporary one can be freed mid-call, see RootedScalars).
        using var one = 1.0.ToScalar();
        using var g = gamma.ToScalar();
        using var a = alpha.ToScalar();
        using var notA = (1 - alpha).ToScalar();
        Tensor p = logits.sigmoid();
        Tensor ce = nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction: nn.Reduction.None);
        Tensor negatives = (one - targets);
        Tensor pt = p.mul(targets).add((one - p).mul(negatives), one);
        Tensor loss = ce.mul((one - pt).pow(g));
        if (alpha >= 0) loss = targets.mul(a).add(negatives.mul(notA), one).mul(loss);
        Tensor result = reduction switch
        {
            nn.Reduction.None => loss,
            nn.Reduction.Mean => loss.mean(),
            nn.Reduction.Sum => loss.sum(),
            _ => throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "Unknown reduction."),
        };
        return result.MoveToOuterDisposeScope();
    }
}
