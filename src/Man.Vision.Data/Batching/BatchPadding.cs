using static TorchSharp.torch;

namespace Man.Vision.Data.Batching;

/// <summary>Pads images of different sizes into one batch (torchvision's <c>batch_images</c>, detectron2's <c>ImageList</c>).</summary>
public static class BatchPadding
{
    /// <summary>The size divisibility FPN backbones need (stride of the coarsest level).</summary>
    public const int DefaultDivisor = 32;

    /// <summary><paramref name="size"/> rounded up to a multiple of <paramref name="divisor"/>.</summary>
    public static int RoundUp(int size, int divisor) => divisor <= 1 ? size : (size + divisor - 1) / divisor * divisor;

    /// <summary>
    /// Stacks <c>[C, H_i, W_i]</c> tensors into <c>[B, C, H, W]</c>, H and W the largest sizes rounded up to
    /// <paramref name="divisor"/>; each image sits top-left and the rest is <paramref name="value"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The list is empty, or ranks or channel counts differ.</exception>
    public static Tensor PadStack(IReadOnlyList<Tensor> items, int divisor = DefaultDivisor, double value = 0)
    {
        if (items is null || items.Count == 0) throw new ArgumentException("Cannot batch an empty list.", nameof(items));
        int rank = (int)items[0].dim();
        if (items.Any(t => t.dim() != rank)) throw new ArgumentException("Batched tensors must have the same rank.");
        for (int d = 0; d < rank - 2; d++)
            if (items.Any(t => t.shape[d] != items[0].shape[d]))
                throw new ArgumentException($"Batched tensors differ in dimension {d} ([{string.Join(", ", items[0].shape)}] vs others).");
        int h = RoundUp((int)items.Max(t => t.shape[rank - 2]), divisor);
        int w = RoundUp((int)items.Max(t => t.shape[rank - 1]), divisor);
        var shape = new long[rank + 1];
        shape[0] = items.Count;
        for (int d = 0; d < rank - 2; d++) shape[d + 1] = items[0].shape[d];
        shape[rank - 1] = h;
        shape[rank] = w;
        var batch = full(shape, value, items[0].dtype);
        for (int i = 0; i < items.Count; i++)
        {
            var t = items[i];
            using var slot = batch[i];
            using var region = rank == 3
                ? slot[.., ..(int)t.shape[1], ..(int)t.shape[2]]
                : slot[..(int)t.shape[0], ..(int)t.shape[1]];
            region.copy_(t);
        }
        return batch;
    }
}
