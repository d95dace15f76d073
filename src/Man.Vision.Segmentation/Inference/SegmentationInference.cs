using Man.Vision.Segmentation.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Inference;

/// <summary>
/// Whole-image and sliding-window inference (mmsegmentation's <c>whole_inference</c> / <c>slide_inference</c>): logits
/// at the input size and per-pixel class predictions.
/// </summary>
public static class SegmentationInference
{
    /// <summary>
    /// Logits <c>[N, classes, H, W]</c> of images <c>[N, C, H, W]</c>: one call of <paramref name="logits"/> on the whole
    /// image when <paramref name="window"/> is null, otherwise one per window, summed into the image's frame and divided
    /// by the number of windows covering each pixel.
    /// </summary>
    /// <param name="logits">Images <c>[N, C, h, w]</c> → logits <c>[N, classes, h, w]</c> at the same size (e.g. a model's "out").</param>
    /// <param name="images">Images <c>[N, C, H, W]</c>.</param>
    /// <param name="window">Sliding-window settings, or null for whole-image inference.</param>
    /// <exception cref="InvalidOperationException"><paramref name="logits"/> returned logits of another size.</exception>
    public static Tensor Logits(Func<Tensor, Tensor> logits, Tensor images, SlidingWindow? window = null)
    {
        if (images.dim() != 4) throw new ArgumentException($"Images must be [N, C, H, W]; got [{string.Join(", ", images.shape)}].", nameof(images));
        long n = images.shape[0], height = images.shape[2], width = images.shape[3];
        // No garbage collection while native code runs (Man.Runtime.CollectorPause): TorchSharp's temporary scalars of the
        // forward passes must not be finalized by a collection that a loader thread starts. Every inference path
        // (Predict, the runner's evaluation, predict segment) comes through here.
        using var pause = Man.Runtime.CollectorPause.Enter();
        using var scope = NewDisposeScope();
        if (window is null)
        {
            Tensor whole = logits(images);
            CheckSize(whole, n, height, width);
            return whole.MoveToOuterDisposeScope();
        }

        Tensor? sum = null;
        Tensor count = zeros([1, 1, height, width], ScalarType.Float32, images.device);
        foreach (var (y1, y2, x1, x2) in window.Windows(height, width))
        {
            using var step = NewDisposeScope();
            Tensor crop = images[.., .., (int)y1..(int)y2, (int)x1..(int)x2];
            Tensor cropLogits = logits(crop);
            CheckSize(cropLogits, n, y2 - y1, x2 - x1);
            if (sum is null)
            {
                sum = zeros([n, cropLogits.shape[1], height, width], cropLogits.dtype, images.device);
                sum.MoveToOuterDisposeScope();
            }
            sum[.., .., (int)y1..(int)y2, (int)x1..(int)x2].add_(cropLogits);
            count[.., .., (int)y1..(int)y2, (int)x1..(int)x2].add_(1);
        }
        // Every pixel is covered at least once (stride ≤ crop), so the division is safe.
        return sum!.div(count.to_type(sum.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>Per-pixel class predictions <c>[N, H, W]</c> int64: the arg-max over classes of <see cref="Logits"/>.</summary>
    public static Tensor Predict(Func<Tensor, Tensor> logits, Tensor images, SlidingWindow? window = null)
    {
        using var scope = NewDisposeScope();
        return Logits(logits, images, window).argmax(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Predictions <c>[N, H, W]</c> of a <see cref="SegmentationModel"/> (main logits), run in eval mode without
    /// gradients; the model's training mode is restored afterwards.
    /// </summary>
    public static Tensor Predict(SegmentationModel model, Tensor images, SlidingWindow? window = null)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            return Predict(x => model.forward(x).Out, images, window);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private static void CheckSize(Tensor logits, long n, long height, long width)
    {
        if (logits.dim() != 4 || logits.shape[0] != n || logits.shape[2] != height || logits.shape[3] != width)
            throw new InvalidOperationException(
                $"The logits function must return [N, classes, H, W] = [{n}, *, {height}, {width}] for its input; got [{string.Join(", ", logits.shape)}].");
    }
}
