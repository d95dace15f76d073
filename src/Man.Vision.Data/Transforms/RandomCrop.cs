using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Data.Transforms;

/// <summary>
/// torchvision's <c>RandomCrop(size, padding)</c> on a batch: the whole batch is padded once with zeros
/// (<c>fill=0</c>, constant mode), then each image gets its own crop at offsets drawn uniformly from
/// <c>0..paddedSide-size</c> (top first, then left, per sample in order). CIFAR: <c>new RandomCrop(32, 4)</c>.
/// </summary>
public sealed class RandomCrop : IBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="size">Output side (square crops).</param>
    /// <param name="padding">Zero padding added on every side before cropping (≥ 0).</param>
    public RandomCrop(int size, int padding = 0)
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), size, "The crop size must be at least 1.");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "Padding must not be negative.");
        Size = size;
        Padding = padding;
    }

    /// <summary>Output side.</summary>
    public int Size { get; }

    /// <summary>Zero padding on every side.</summary>
    public int Padding { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor images, Random random)
    {
        if (images.dim() != 4) throw new ArgumentException($"Expected images [N, C, H, W], got [{string.Join(", ", images.shape)}].", nameof(images));
        int n = (int)images.shape[0];
        long h = images.shape[2] + 2 * Padding, w = images.shape[3] + 2 * Padding;
        if (h < Size || w < Size)
            throw new ArgumentException($"A {Size}x{Size} crop does not fit in {w}x{h} (images {images.shape[3]}x{images.shape[2]} padded by {Padding}).");
        var offsets = new (int Top, int Left)[n];
        for (int i = 0; i < n; i++) offsets[i] = (random.Next((int)(h - Size) + 1), random.Next((int)(w - Size) + 1));
        return Crop(images, offsets, Size, Padding);
    }

    /// <summary>
    /// Pads the batch by <paramref name="padding"/> zeros once and cuts each image's <paramref name="size"/>² window at its
    /// (top, left) offset in the padded image. Only the batch-level pad and N views are made; no per-pixel work in C#.
    /// </summary>
    public static Tensor Crop(Tensor images, IReadOnlyList<(int Top, int Left)> offsets, int size, int padding)
    {
        using var scope = torch.NewDisposeScope();
        var padded = padding > 0 ? nn.functional.pad(images, [padding, padding, padding, padding], PaddingModes.Constant, 0) : images;
        var crops = new Tensor[offsets.Count];
        for (int i = 0; i < crops.Length; i++)
            crops[i] = padded[i].narrow(1, offsets[i].Top, size).narrow(2, offsets[i].Left, size);
        return torch.stack(crops).MoveToOuterDisposeScope();
    }
}
