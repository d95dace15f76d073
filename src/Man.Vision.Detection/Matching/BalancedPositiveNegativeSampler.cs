using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Matching;

/// <summary>
/// Samples per image a batch of positives and negatives with a target positive fraction, as torchvision's
/// <c>BalancedPositiveNegativeSampler</c>: up to ⌊batch·fraction⌋ positives (label ≥ 1), the rest negatives
/// (label 0), chosen by random permutation; label −1 is ignored.
/// </summary>
public sealed class BalancedPositiveNegativeSampler
{
    /// <summary>Creates a sampler.</summary>
    /// <param name="batchSizePerImage">Samples per image (RPN 256, RoI heads 512).</param>
    /// <param name="positiveFraction">Wanted fraction of positives (RPN 0.5, RoI heads 0.25), in [0, 1].</param>
    /// <param name="generator">Random generator for the permutations (seeded by the caller for reproducibility); null uses torch's default generator.</param>
    public BalancedPositiveNegativeSampler(int batchSizePerImage, double positiveFraction, Generator? generator = null)
    {
        if (batchSizePerImage < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSizePerImage), batchSizePerImage, "The batch size per image must be at least 1.");
        if (!(positiveFraction >= 0 && positiveFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(positiveFraction), positiveFraction, "The positive fraction must be in [0, 1].");
        BatchSizePerImage = batchSizePerImage;
        PositiveFraction = positiveFraction;
        Generator = generator;
    }

    /// <summary>Samples per image.</summary>
    public int BatchSizePerImage { get; }

    /// <summary>Wanted fraction of positives.</summary>
    public double PositiveFraction { get; }

    /// <summary>The permutation generator (null: torch's default).</summary>
    public Generator? Generator { get; }

    /// <summary>Per image, boolean masks <c>[N_b]</c> of the sampled positives and negatives.</summary>
    /// <param name="labels">Per image, labels <c>[N_b]</c>: ≥ 1 positive, 0 negative, −1 ignored.</param>
    public (IReadOnlyList<Tensor> Positive, IReadOnlyList<Tensor> Negative) Sample(IReadOnlyList<Tensor> labels)
    {
        var pos = new List<Tensor>();
        var neg = new List<Tensor>();
        foreach (Tensor l in labels)
        {
            using var scope = NewDisposeScope();
            Tensor positive = l.ge(1).nonzero().flatten();
            Tensor negative = l.eq(0).nonzero().flatten();
            long numPos = Math.Min(positive.shape[0], (long)(BatchSizePerImage * PositiveFraction));
            long numNeg = Math.Min(negative.shape[0], BatchSizePerImage - numPos);
            Tensor posIdx = positive.index_select(0, Permutation(positive.shape[0], l.device)[..(int)numPos]);
            Tensor negIdx = negative.index_select(0, Permutation(negative.shape[0], l.device)[..(int)numNeg]);
            Tensor posMask = torch.zeros(l.shape[0], ScalarType.Bool, l.device).index_fill(0, posIdx, true);
            Tensor negMask = torch.zeros(l.shape[0], ScalarType.Bool, l.device).index_fill(0, negIdx, true);
            pos.Add(posMask.MoveToOuterDisposeScope());
            neg.Add(negMask.MoveToOuterDisposeScope());
        }
        return (pos, neg);
    }

    private Tensor Permutation(long n, Device device) =>
        torch.randperm(n, ScalarType.Int64, generator: Generator).to(device);
}
