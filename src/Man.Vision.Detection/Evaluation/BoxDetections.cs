using Man.Vision.Data.Masks;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Evaluation;

/// <summary>
/// A model's detections for one image, as the detection evaluators take them: boxes xyxy in pixels of the original
/// image, scores and labels (torchvision's output dict).
/// </summary>
public sealed class BoxDetections
{
    /// <summary>Creates the detections of one image; arrays are kept, not copied.</summary>
    /// <param name="boxes">Boxes <c>[N, 4]</c> flattened row-major, xyxy, finite, <c>x2 ≥ x1</c>, <c>y2 ≥ y1</c>.</param>
    /// <param name="scores">Scores <c>[N]</c>, finite.</param>
    /// <param name="labels">Labels <c>[N]</c>.</param>
    /// <param name="masks">Masks <c>[N]</c> (image-sized, run-length encoded) for mask evaluation, or null.</param>
    /// <exception cref="ArgumentException">Lengths disagree, a box is invalid or a score is not finite.</exception>
    public BoxDetections(float[] boxes, float[] scores, long[] labels, Rle[]? masks = null)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(labels);
        int n = labels.Length;
        if (boxes.Length != 4 * n || scores.Length != n)
            throw new ArgumentException($"Detections must have [N, 4] boxes, [N] scores and [N] labels; got {boxes.Length} box values, {scores.Length} scores, {n} labels.");
        BoxChecks.CheckXyxy(boxes, "detection box");
        for (int i = 0; i < n; i++)
            if (!float.IsFinite(scores[i]))
                throw new ArgumentException($"Detection {i} has a score of {scores[i]}; scores must be finite.", nameof(scores));
        if (masks is not null && masks.Length != n)
            throw new ArgumentException($"Detections have {n} labels but {masks.Length} masks.", nameof(masks));
        Boxes = boxes;
        Scores = scores;
        Labels = labels;
        Masks = masks;
    }

    /// <summary>No detections.</summary>
    public static BoxDetections Empty { get; } = new([], [], []);

    /// <summary>Boxes <c>[N, 4]</c> flattened, xyxy.</summary>
    public float[] Boxes { get; }

    /// <summary>Scores <c>[N]</c>.</summary>
    public float[] Scores { get; }

    /// <summary>Labels <c>[N]</c>.</summary>
    public long[] Labels { get; }

    /// <summary>Masks <c>[N]</c> or null.</summary>
    public Rle[]? Masks { get; }

    /// <summary>The number of detections N.</summary>
    public int Count => Labels.Length;

    /// <summary>Copies tensors (any device) into <see cref="BoxDetections"/>.</summary>
    /// <param name="boxes"><c>[N, 4]</c> xyxy.</param>
    /// <param name="scores"><c>[N]</c>.</param>
    /// <param name="labels"><c>[N]</c> integer labels.</param>
    /// <param name="masks">Optional <c>[N, 1, H, W]</c> or <c>[N, H, W]</c> masks: probabilities (foreground where
    /// &gt; <paramref name="maskThreshold"/>, torchvision's 0.5) or 0/1 integers/bools.</param>
    /// <param name="maskThreshold">Threshold for floating-point masks.</param>
    public static BoxDetections FromTensors(Tensor boxes, Tensor scores, Tensor labels, Tensor? masks = null, double maskThreshold = 0.5)
    {
        using var scope = NewDisposeScope();
        return new BoxDetections(TensorArrays.Boxes(boxes, "boxes"), TensorArrays.Floats(scores), TensorArrays.Longs(labels),
            masks is null ? null : TensorArrays.Masks(masks, maskThreshold));
    }
}
