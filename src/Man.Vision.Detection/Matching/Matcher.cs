using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Matching;

/// <summary>
/// Assigns to each prediction (anchor or proposal) the ground-truth box it overlaps most, as torchvision's
/// <c>Matcher</c>: a match of quality ≥ high keeps the gt index, one below low becomes
/// <see cref="BelowLowThreshold"/>, one in between <see cref="BetweenThresholds"/>.
/// With <see cref="AllowLowQualityMatches"/>, every prediction that ties for the best overlap of some gt keeps its
/// match even below the thresholds (so every gt has at least one positive).
/// </summary>
public sealed class Matcher
{
    /// <summary>Match value of predictions whose best quality is below the low threshold (background).</summary>
    public const long BelowLowThreshold = -1;

    /// <summary>Match value of predictions whose best quality is between the thresholds (ignored).</summary>
    public const long BetweenThresholds = -2;

    /// <summary>Creates a matcher.</summary>
    /// <param name="highThreshold">Quality at and above which a match is foreground (RPN 0.7, RoI heads 0.5).</param>
    /// <param name="lowThreshold">Quality below which a match is background (RPN 0.3, RoI heads 0.5); ≤ high.</param>
    /// <param name="allowLowQualityMatches">Keep the best predictions of each gt (RPN true, RoI heads false).</param>
    public Matcher(double highThreshold, double lowThreshold, bool allowLowQualityMatches)
    {
        if (lowThreshold > highThreshold)
            throw new ArgumentException($"The low threshold ({lowThreshold}) is above the high threshold ({highThreshold}).", nameof(lowThreshold));
        HighThreshold = highThreshold;
        LowThreshold = lowThreshold;
        AllowLowQualityMatches = allowLowQualityMatches;
    }

    /// <summary>Quality at and above which a match is foreground.</summary>
    public double HighThreshold { get; }

    /// <summary>Quality below which a match is background.</summary>
    public double LowThreshold { get; }

    /// <summary>Whether each gt's best predictions keep their match whatever its quality.</summary>
    public bool AllowLowQualityMatches { get; }

    /// <summary>Matches <c>[N]</c> (int64): the gt index of each prediction, or a negative constant.</summary>
    /// <param name="matchQuality">Quality <c>[M, N]</c> of every (gt, prediction) pair, typically IoU; M ≥ 1.</param>
    /// <exception cref="ArgumentException">There is no ground truth (M = 0): callers handle empty images themselves.</exception>
    public Tensor Match(Tensor matchQuality)
    {
        if (matchQuality.dim() != 2)
            throw new ArgumentException($"The match quality matrix must be [M, N], got [{string.Join(", ", matchQuality.shape)}].", nameof(matchQuality));
        if (matchQuality.shape[0] == 0)
            throw new ArgumentException("No ground-truth boxes available for one of the images.", nameof(matchQuality));
        if (matchQuality.shape[1] == 0)
            return torch.empty(0, ScalarType.Int64, matchQuality.device);
        using var scope = NewDisposeScope();
        var (values, matches) = matchQuality.max(0);
        Tensor all = matches.clone();
        Tensor below = values.lt(LowThreshold);
        Tensor between = values.ge(LowThreshold).logical_and(values.lt(HighThreshold));
        matches = matches.masked_fill(below, BelowLowThreshold).masked_fill(between, BetweenThresholds);
        if (AllowLowQualityMatches)
        {
            var (best, _) = matchQuality.max(1);
            Tensor isBest = matchQuality.eq(best[.., TensorIndex.None]).any(0);
            matches = torch.where(isBest, all, matches);
        }
        return matches.MoveToOuterDisposeScope();
    }
}
