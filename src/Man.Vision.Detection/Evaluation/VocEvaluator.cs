using System.Globalization;
using Man.Vision.Data.Evaluation;

namespace Man.Vision.Detection.Evaluation;

/// <summary>
/// PASCAL VOC detection evaluation fed by an inference runner: per class AP (VOC2010+ area and VOC2007 11-point, see
/// <see cref="VocAp"/>) and their means over the classes.
/// </summary>
/// <remarks>
/// Metric keys: <c>mAP</c> (area AP averaged over classes), <c>mAP07</c> (11-point), <c>VOC-AP-&lt;class&gt;</c> and
/// <c>VOC-AP07-&lt;class&gt;</c>. A class without non-difficult ground truth has no defined AP (voc_eval divides by
/// zero): it gets no per-class key and is left out of the means. Inputs' <see cref="DetectionTruth.Difficult"/> flags
/// mark difficult objects; boxes are VOC pixel coordinates (sizes counted inclusively).
/// </remarks>
public sealed class VocEvaluator : IEvaluator<DetectionTruth, BoxDetections>
{
    private readonly IReadOnlyDictionary<long, string> _classes;
    private readonly double _iouThreshold;
    private readonly Dictionary<long, Dictionary<long, List<VocTruth>>> _truths = [];
    private readonly Dictionary<long, List<VocDetection>> _detections = [];
    private readonly HashSet<long> _images = [];

    /// <summary>Creates the evaluator.</summary>
    /// <param name="classes">Label → class name for every evaluated class (labels not listed, e.g. background, are ignored).</param>
    /// <param name="iouThreshold">A match needs IoU strictly above this; VOC uses 0.5.</param>
    public VocEvaluator(IReadOnlyDictionary<long, string> classes, double iouThreshold = 0.5)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (classes.Count == 0) throw new ArgumentException("VocEvaluator needs at least one class.", nameof(classes));
        if (!(iouThreshold >= 0 && iouThreshold < 1))
            throw new ArgumentOutOfRangeException(nameof(iouThreshold), iouThreshold, "The IoU threshold must lie in [0, 1).");
        if (classes.Values.Distinct(StringComparer.Ordinal).Count() != classes.Count)
            throw new ArgumentException("VocEvaluator's class names must be distinct (they form the metric keys).", nameof(classes));
        _classes = classes;
        _iouThreshold = iouThreshold;
    }

    /// <summary>Classes named in label order starting at <paramref name="firstLabel"/> (1 when label 0 is the background).</summary>
    public static VocEvaluator FromNames(IReadOnlyList<string> names, long firstLabel = 1, double iouThreshold = 0.5)
    {
        ArgumentNullException.ThrowIfNull(names);
        var map = new Dictionary<long, string>();
        for (int i = 0; i < names.Count; i++) map[firstLabel + i] = names[i];
        return new VocEvaluator(map, iouThreshold);
    }

    /// <summary>The per-class results of the last <see cref="Evaluate"/> in label order, or null.</summary>
    public IReadOnlyList<VocClassResult>? LastResults { get; private set; }

    /// <inheritdoc/>
    public void Reset()
    {
        _truths.Clear();
        _detections.Clear();
        _images.Clear();
        LastResults = null;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">An image is processed twice.</exception>
    public void Process(IReadOnlyList<DetectionTruth> inputs, IReadOnlyList<BoxDetections> outputs)
    {
        EvaluatorGuards.CheckBatch(inputs, outputs);
        for (int i = 0; i < inputs.Count; i++)
        {
            var truth = inputs[i] ?? throw new ArgumentException($"Input {i} of the batch is null.", nameof(inputs));
            var dets = outputs[i] ?? throw new ArgumentException($"Output {i} of the batch (image {truth.ImageId}) is null.", nameof(outputs));
            if (!_images.Add(truth.ImageId))
                throw new ArgumentException($"Image {truth.ImageId} was processed twice since the last Reset.", nameof(inputs));
            for (int j = 0; j < truth.Count; j++)
            {
                long label = truth.Labels[j];
                if (!_classes.ContainsKey(label)) continue;
                if (!_truths.TryGetValue(label, out var byImage)) _truths[label] = byImage = [];
                if (!byImage.TryGetValue(truth.ImageId, out var list)) byImage[truth.ImageId] = list = [];
                var b = truth.Boxes;
                list.Add(new VocTruth(b[4 * j], b[4 * j + 1], b[4 * j + 2], b[4 * j + 3], truth.Difficult?[j] ?? false));
            }
            for (int j = 0; j < dets.Count; j++)
            {
                long label = dets.Labels[j];
                if (!_classes.ContainsKey(label)) continue;
                if (!_detections.TryGetValue(label, out var list)) _detections[label] = list = [];
                var b = dets.Boxes;
                list.Add(new VocDetection(truth.ImageId, b[4 * j], b[4 * j + 1], b[4 * j + 2], b[4 * j + 3], dets.Scores[j]));
            }
        }
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, double> Evaluate()
    {
        var results = new List<VocClassResult>();
        foreach (var (label, name) in _classes.OrderBy(kv => kv.Key))
        {
            IReadOnlyDictionary<long, IReadOnlyList<VocTruth>> truths = _truths.TryGetValue(label, out var byImage)
                ? byImage.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<VocTruth>)kv.Value)
                : new Dictionary<long, IReadOnlyList<VocTruth>>();
            IReadOnlyList<VocDetection> dets = _detections.TryGetValue(label, out var list) ? list : [];
            results.Add(VocAp.EvaluateClass(name, truths, dets, _iouThreshold));
        }
        LastResults = results;
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        var defined = results.Where(r => r.Positives > 0).ToList();
        metrics["mAP"] = defined.Count == 0 ? double.NaN : defined.Average(r => r.Ap);
        metrics["mAP07"] = defined.Count == 0 ? double.NaN : defined.Average(r => r.Ap07);
        foreach (var r in defined)
        {
            metrics[$"VOC-AP-{r.Name}"] = r.Ap;
            metrics[$"VOC-AP07-{r.Name}"] = r.Ap07;
        }
        return metrics;
    }

    /// <summary>A table of the last results: class, positives, detections, AP and AP07 (in %), then the means.</summary>
    public string FormatTable()
    {
        var results = LastResults ?? throw new InvalidOperationException("Call Evaluate before FormatTable.");
        int width = Math.Max("class".Length, results.Count == 0 ? 0 : results.Max(r => r.Name.Length));
        var inv = CultureInfo.InvariantCulture;
        var lines = new List<string> { $"{"class".PadRight(width)} | {"gts",6} | {"dets",7} | {"AP",7} | {"AP07",7}" };
        lines.Add(new string('-', lines[0].Length));
        foreach (var r in results)
            lines.Add($"{r.Name.PadRight(width)} | {r.Positives,6} | {r.Detections,7} | {Percent(r.Ap),7} | {Percent(r.Ap07),7}");
        var defined = results.Where(r => r.Positives > 0).ToList();
        double map = defined.Count == 0 ? double.NaN : defined.Average(r => r.Ap);
        double map07 = defined.Count == 0 ? double.NaN : defined.Average(r => r.Ap07);
        lines.Add(new string('-', lines[0].Length));
        lines.Add($"{"mAP".PadRight(width)} | {"",6} | {"",7} | {Percent(map),7} | {Percent(map07),7}");
        return string.Join('\n', lines) + "\n";

        string Percent(double v) => double.IsNaN(v) ? "nan" : (v * 100).ToString("F2", inv);
    }
}
