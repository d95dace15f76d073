using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Data.Transforms;

/// <summary>torchvision's <c>RandomHorizontalFlip(p)</c> on a batch: each image is mirrored (width reversed) with probability p.</summary>
public sealed class RandomHorizontalFlip : IBatchTransform
{
    /// <summary>Creates the transform; <paramref name="p"/> in [0, 1] (torchvision: 0.5).</summary>
    public RandomHorizontalFlip(double p = 0.5)
    {
        if (p is < 0 or > 1 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "The flip probability must be in [0, 1].");
        P = p;
    }

    /// <summary>The flip probability.</summary>
    public double P { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor images, Random random)
    {
        if (images.dim() != 4) throw new ArgumentException($"Expected images [N, C, H, W], got [{string.Join(", ", images.shape)}].", nameof(images));
        int n = (int)images.shape[0];
        var flip = new bool[n];
        for (int i = 0; i < n; i++) flip[i] = random.NextDouble() < P;
        return Flip(images, flip);
    }

    /// <summary>Mirrors the images whose <paramref name="flip"/> entry is true (one batched <c>where</c>).</summary>
    public static Tensor Flip(Tensor images, IReadOnlyList<bool> flip)
    {
        using var scope = torch.NewDisposeScope();
        var mask = torch.tensor(flip.ToArray(), device: images.device).view(-1, 1, 1, 1);
        return torch.where(mask, images.flip(3), images).MoveToOuterDisposeScope();
    }
}
