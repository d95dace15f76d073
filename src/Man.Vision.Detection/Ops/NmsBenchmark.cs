using System.Diagnostics;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Ops;

/// <summary>Times <see cref="BoxOps.Nms"/> on random boxes (the `man-vision bench nms` measurement).</summary>
public static class NmsBenchmark
{
    /// <summary>
    /// Median wall time in milliseconds of <see cref="BoxOps.Nms"/> over <paramref name="repeats"/> runs (after one
    /// warm-up run) on <paramref name="n"/> random boxes in a 1000×1000 image, sides 10..110 pixels, uniform scores.
    /// The time includes pulling the tensors to managed memory and building the result tensor.
    /// </summary>
    /// <param name="n">Number of boxes (≥ 1).</param>
    /// <param name="iouThreshold">IoU threshold (0.5 is typical for detections, 0.7 for proposals).</param>
    /// <param name="repeats">Timed runs (≥ 1).</param>
    /// <param name="seed">Seed of the random boxes.</param>
    public static double Run(int n, double iouThreshold, int repeats, long seed = 0)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "The number of boxes must be at least 1.");
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), repeats, "The number of repeats must be at least 1.");
        using var scope = NewDisposeScope();
        var boxes = RandomBoxes(n, seed, out Tensor scores);
        BoxOps.Nms(boxes, scores, iouThreshold).Dispose();
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            using Tensor keep = BoxOps.Nms(boxes, scores, iouThreshold);
            sw.Stop();
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return repeats % 2 == 1 ? times[repeats / 2] : 0.5 * (times[repeats / 2 - 1] + times[repeats / 2]);
    }

    /// <summary>Random boxes <c>[n, 4]</c> xyxy in a 1000×1000 image with sides 10..110, and scores <c>[n]</c> in [0, 1).</summary>
    public static Tensor RandomBoxes(int n, long seed, out Tensor scores)
    {
        using var gen = new TorchSharp.torch.Generator((ulong)seed);
        Tensor xy = rand([n, 2], generator: gen) * 1000;
        Tensor wh = rand([n, 2], generator: gen) * 100 + 10;
        scores = rand([n], generator: gen);
        return cat([xy, xy + wh], 1);
    }
}
