namespace Man.Vision.Detection.Evaluation;

/// <summary>
/// Parameters of COCO box evaluation with pycocotools' defaults: IoU thresholds <c>np.linspace(.5, .95, 10)</c>,
/// recall thresholds <c>np.linspace(0, 1, 101)</c>, max detections 1/10/100, area ranges all <c>[0, 1e10]</c>,
/// small <c>[0, 32²]</c>, medium <c>[32², 96²]</c>, large <c>[96², 1e10]</c>, categories used.
/// </summary>
public sealed record CocoEvalParameters
{
    /// <summary>The default parameters (pycocotools' <c>Params(iouType='bbox')</c>).</summary>
    public static CocoEvalParameters Default { get; } = new();

    /// <summary>What is compared: boxes (<c>bbox</c>, the default) or masks (<c>segm</c>).</summary>
    public CocoIouType IouType { get; init; } = CocoIouType.Bbox;

    /// <summary>IoU thresholds, ascending; the summary needs 0.5 and 0.75 among them for AP50 and AP75.</summary>
    public IReadOnlyList<double> IouThresholds { get; init; } = Linspace(0.5, 0.95, 10);

    /// <summary>Recall points at which precision is sampled.</summary>
    public IReadOnlyList<double> RecallThresholds { get; init; } = Linspace(0.0, 1.0, 101);

    /// <summary>Detections kept per image and category; sorted ascending before use, at least three for the summary.</summary>
    public IReadOnlyList<int> MaxDetections { get; init; } = [1, 10, 100];

    /// <summary>Area ranges; the summary reads those labelled all, small, medium and large.</summary>
    public IReadOnlyList<CocoAreaRange> AreaRanges { get; init; } =
    [
        new("all", 0, 1e10),
        new("small", 0, 32 * 32),
        new("medium", 32 * 32, 96 * 96),
        new("large", 96 * 96, 1e10),
    ];

    /// <summary>When false, categories are ignored (every detection may match every object), pycocotools' <c>useCats=0</c>.</summary>
    public bool UseCategories { get; init; } = true;

    /// <summary>The images to evaluate; null means every image of the ground truth.</summary>
    public IReadOnlyList<long>? ImageIds { get; init; }

    /// <summary>The categories to evaluate; null means every category of the ground truth.</summary>
    public IReadOnlyList<long>? CategoryIds { get; init; }

    /// <summary>
    /// numpy's <c>linspace(start, stop, num)</c> bit for bit: <c>start + i·((stop − start)/(num − 1))</c> and the last
    /// value exactly <paramref name="stop"/> (so 0.75 is found among the IoU thresholds, as in pycocotools).
    /// </summary>
    public static double[] Linspace(double start, double stop, int num)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(num, 1);
        var y = new double[num];
        if (num == 1) { y[0] = start; return y; }
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) y[i] = i * step + start;
        y[^1] = stop;
        return y;
    }

    /// <summary>Throws with a message saying what is wrong when the parameters cannot be evaluated.</summary>
    public void Validate()
    {
        if (IouThresholds is null || IouThresholds.Count == 0)
            throw new ArgumentException("CocoEvalParameters.IouThresholds must hold at least one threshold.");
        foreach (double t in IouThresholds)
            if (!(t >= 0 && t <= 1))
                throw new ArgumentException($"CocoEvalParameters.IouThresholds must lie in [0, 1], found {t}.");
        if (RecallThresholds is null || RecallThresholds.Count == 0)
            throw new ArgumentException("CocoEvalParameters.RecallThresholds must hold at least one threshold.");
        for (int i = 0; i < RecallThresholds.Count; i++)
            if (!(RecallThresholds[i] >= 0 && RecallThresholds[i] <= 1) || (i > 0 && RecallThresholds[i] < RecallThresholds[i - 1]))
                throw new ArgumentException("CocoEvalParameters.RecallThresholds must be ascending values in [0, 1].");
        if (MaxDetections is null || MaxDetections.Count < 3)
            throw new ArgumentException("CocoEvalParameters.MaxDetections needs at least three limits (the summary reads the first three, e.g. 1, 10, 100).");
        foreach (int m in MaxDetections)
            if (m < 1)
                throw new ArgumentException($"CocoEvalParameters.MaxDetections must be positive, found {m}.");
        if (AreaRanges is null || AreaRanges.Count == 0)
            throw new ArgumentException("CocoEvalParameters.AreaRanges must hold at least one range.");
        foreach (var a in AreaRanges)
            if (string.IsNullOrEmpty(a.Label) || double.IsNaN(a.Min) || double.IsNaN(a.Max) || a.Min > a.Max)
                throw new ArgumentException($"CocoEvalParameters.AreaRanges has an invalid range {a} (a label and Min ≤ Max are needed).");
    }
}
