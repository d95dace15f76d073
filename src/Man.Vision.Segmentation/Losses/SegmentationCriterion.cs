using Man.Vision.Segmentation.Models;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Losses;

/// <summary>
/// torchvision's reference segmentation criterion: pixel cross-entropy (ignore 255) of the main logits plus
/// <see cref="AuxWeight"/> (0.5) times that of the auxiliary logits.
/// </summary>
public sealed class SegmentationCriterion
{
    /// <summary>Creates the criterion.</summary>
    /// <param name="auxWeight">Weight of the auxiliary loss (torchvision reference: 0.5).</param>
    /// <param name="ignoreIndex">Label of ignored pixels (255).</param>
    public SegmentationCriterion(double auxWeight = 0.5, long ignoreIndex = PixelCrossEntropy.DefaultIgnoreIndex)
    {
        if (auxWeight < 0 || double.IsNaN(auxWeight)) throw new ArgumentOutOfRangeException(nameof(auxWeight), auxWeight, "The auxiliary weight must be ≥ 0.");
        AuxWeight = auxWeight;
        IgnoreIndex = ignoreIndex;
    }

    /// <summary>Weight of the auxiliary loss.</summary>
    public double AuxWeight { get; }

    /// <summary>Label of ignored pixels.</summary>
    public long IgnoreIndex { get; }

    /// <summary>
    /// Named scalar losses whose sum is the training loss: "out" (main cross-entropy) and, when the output has
    /// auxiliary logits, "aux" (already multiplied by <see cref="AuxWeight"/>).
    /// </summary>
    /// <param name="output">Model output at the label size.</param>
    /// <param name="target">Labels <c>[N, H, W]</c> int64.</param>
    public IReadOnlyDictionary<string, Tensor> Losses(SegmentationOutput output, Tensor target)
    {
        var losses = new Dictionary<string, Tensor> { ["out"] = PixelCrossEntropy.Loss(output.Out, target, IgnoreIndex) };
        if (output.Aux is not null)
        {
            using var ce = PixelCrossEntropy.Loss(output.Aux, target, IgnoreIndex);
            losses["aux"] = ce.mul(AuxWeight);
        }
        return losses;
    }
}
