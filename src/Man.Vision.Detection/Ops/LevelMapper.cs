using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Ops;

/// <summary>
/// Assigns each box to a feature-pyramid level (Feature Pyramid Networks, Lin et al., eq. 1), as torchvision's
/// <c>LevelMapper</c>: <c>level = floor(canonicalLevel + log2(sqrt(area) / canonicalScale) + eps)</c>, clamped to
/// [<see cref="MinLevel"/>, <see cref="MaxLevel"/>], returned relative to <see cref="MinLevel"/>.
/// With the defaults a 224×224 box goes to level 4 (stride 16), a 112×112 box to level 3, a 448×448 box to level 5.
/// </summary>
public sealed class LevelMapper
{
    /// <summary>Creates a mapper for levels <paramref name="minLevel"/>..<paramref name="maxLevel"/> (level k has stride 2^k).</summary>
    /// <param name="minLevel">The finest level (k_min), e.g. 2 for stride 4.</param>
    /// <param name="maxLevel">The coarsest level (k_max), e.g. 5 for stride 32.</param>
    /// <param name="canonicalScale">Box side mapped to <paramref name="canonicalLevel"/> (224, the ImageNet pre-training size).</param>
    /// <param name="canonicalLevel">Level of a box of side <paramref name="canonicalScale"/> (4).</param>
    /// <param name="eps">Added before the floor, so that exact powers of two land on the upper level (1e-6).</param>
    public LevelMapper(int minLevel, int maxLevel, int canonicalScale = 224, int canonicalLevel = 4, double eps = 1e-6)
    {
        if (maxLevel < minLevel)
            throw new ArgumentException($"The coarsest level ({maxLevel}) is finer than the finest level ({minLevel}).", nameof(maxLevel));
        if (canonicalScale <= 0)
            throw new ArgumentOutOfRangeException(nameof(canonicalScale), canonicalScale, "The canonical scale must be positive.");
        MinLevel = minLevel;
        MaxLevel = maxLevel;
        CanonicalScale = canonicalScale;
        CanonicalLevel = canonicalLevel;
        Eps = eps;
    }

    /// <summary>The finest level k_min.</summary>
    public int MinLevel { get; }

    /// <summary>The coarsest level k_max.</summary>
    public int MaxLevel { get; }

    /// <summary>The canonical box side (224).</summary>
    public int CanonicalScale { get; }

    /// <summary>The level of a canonical box (4).</summary>
    public int CanonicalLevel { get; }

    /// <summary>The epsilon added before flooring.</summary>
    public double Eps { get; }

    /// <summary>Level index (0 = <see cref="MinLevel"/>) <c>[ΣK_b]</c> int64 of the boxes of every image, in order.</summary>
    /// <param name="boxes">Per image, boxes <c>[K_b, 4]</c> xyxy in image pixels.</param>
    public Tensor Map(IReadOnlyList<Tensor> boxes)
    {
        using var scope = NewDisposeScope();
        Tensor area = torch.cat(boxes.Select(BoxOps.Area).ToList(), 0);
        Tensor s = area.sqrt();
        Tensor level = ((s / CanonicalScale).log2() + CanonicalLevel + torch.tensor(Eps, s.dtype)).floor();
        level = level.clamp(MinLevel, MaxLevel);
        return (level.to(ScalarType.Int64) - MinLevel).MoveToOuterDisposeScope();
    }
}
