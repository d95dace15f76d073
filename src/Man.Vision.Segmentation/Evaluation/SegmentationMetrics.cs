using System.Globalization;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Man.Vision.Segmentation.Evaluation;

/// <summary>
/// Segmentation results as mmsegmentation's <c>IoUMetric</c> reports them, in percent:
/// <list type="bullet">
/// <item>IoU_c = intersect_c / union_c ×100, NaN when union_c = 0 (class absent from prediction and label);</item>
/// <item>Acc_c = intersect_c / label_c ×100, NaN when label_c = 0;</item>
/// <item>mIoU = nanmean(IoU), mAcc = nanmean(Acc) (NaN classes excluded), aAcc = Σ intersect / Σ label ×100.</item>
/// </list>
/// Areas count pixels whose label is not the ignore index.
/// </summary>
public sealed record SegmentationMetrics
{
    /// <summary>Class names.</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }

    /// <summary>Per-class pixels predicted and labelled c.</summary>
    public required IReadOnlyList<long> Intersection { get; init; }

    /// <summary>Per-class pixels predicted or labelled c.</summary>
    public required IReadOnlyList<long> Union { get; init; }

    /// <summary>Per-class pixels predicted c.</summary>
    public required IReadOnlyList<long> PredictedArea { get; init; }

    /// <summary>Per-class pixels labelled c.</summary>
    public required IReadOnlyList<long> LabelArea { get; init; }

    /// <summary>Per-class IoU in percent (NaN for classes with union 0).</summary>
    public required IReadOnlyList<double> IoU { get; init; }

    /// <summary>Per-class accuracy (recall) in percent (NaN for classes with label area 0).</summary>
    public required IReadOnlyList<double> Acc { get; init; }

    /// <summary>Mean IoU over classes with a defined IoU, in percent (NaN when none is).</summary>
    public required double MIoU { get; init; }

    /// <summary>Mean accuracy over classes with a defined accuracy, in percent.</summary>
    public required double MAcc { get; init; }

    /// <summary>Overall pixel accuracy in percent (NaN when no valid pixel was seen).</summary>
    public required double AAcc { get; init; }

    /// <summary>Valid (non-ignored) pixels evaluated.</summary>
    public long ValidPixels => LabelArea.Sum();

    /// <summary>Number of classes.</summary>
    public int NumClasses => ClassNames.Count;

    /// <summary>Computes the metrics from a row-major confusion matrix <c>[label, prediction]</c> of C·C counts.</summary>
    /// <exception cref="ArgumentException">The matrix does not hold C·C entries or the names do not number C.</exception>
    public static SegmentationMetrics FromConfusionMatrix(IReadOnlyList<long> confusion, int numClasses, IReadOnlyList<string> classNames)
    {
        if (confusion.Count != (long)numClasses * numClasses)
            throw new ArgumentException($"A confusion matrix of {numClasses} classes has {numClasses * numClasses} entries; got {confusion.Count}.", nameof(confusion));
        if (classNames.Count != numClasses)
            throw new ArgumentException($"{classNames.Count} class names given for {numClasses} classes.", nameof(classNames));
        int c = numClasses;
        var inter = new long[c];
        var pred = new long[c];
        var label = new long[c];
        for (int l = 0; l < c; l++)
        {
            for (int p = 0; p < c; p++)
            {
                long v = confusion[l * c + p];
                label[l] += v;
                pred[p] += v;
                if (l == p) inter[l] = v;
            }
        }
        var union = new long[c];
        var iou = new double[c];
        var acc = new double[c];
        for (int k = 0; k < c; k++)
        {
            union[k] = pred[k] + label[k] - inter[k];
            iou[k] = union[k] == 0 ? double.NaN : 100.0 * inter[k] / union[k];
            acc[k] = label[k] == 0 ? double.NaN : 100.0 * inter[k] / label[k];
        }
        long total = label.Sum();
        return new SegmentationMetrics
        {
            ClassNames = classNames.ToArray(),
            Intersection = inter,
            Union = union,
            PredictedArea = pred,
            LabelArea = label,
            IoU = iou,
            Acc = acc,
            MIoU = NanMean(iou),
            MAcc = NanMean(acc),
            AAcc = total == 0 ? double.NaN : 100.0 * inter.Sum() / total,
        };
    }

    /// <summary>
    /// The results as a plain-text table like mmsegmentation's log: one row per class (IoU, Acc, two decimals, "nan"
    /// for undefined values), then aAcc, mIoU and mAcc.
    /// </summary>
    public string FormatTable()
    {
        int nameWidth = Math.Max(5, ClassNames.Max(n => n.Length));
        var sb = new StringBuilder();
        string rule = $"+{new string('-', nameWidth + 2)}+--------+--------+";
        sb.AppendLine("per class results:");
        sb.AppendLine(rule);
        sb.AppendLine($"| {"Class".PadRight(nameWidth)} |    IoU |    Acc |");
        sb.AppendLine(rule);
        for (int k = 0; k < NumClasses; k++)
            sb.AppendLine($"| {ClassNames[k].PadRight(nameWidth)} | {Format(IoU[k]),6} | {Format(Acc[k]),6} |");
        sb.AppendLine(rule);
        sb.AppendLine("Summary:");
        sb.AppendLine("+--------+--------+--------+");
        sb.AppendLine("|   aAcc |   mIoU |   mAcc |");
        sb.AppendLine("+--------+--------+--------+");
        sb.AppendLine($"| {Format(AAcc),6} | {Format(MIoU),6} | {Format(MAcc),6} |");
        sb.AppendLine("+--------+--------+--------+");
        return sb.ToString();
    }

    /// <summary>
    /// The results as json: <c>mIoU</c>, <c>aAcc</c>, <c>mAcc</c> (numbers, percent), <c>IoU</c> and <c>Acc</c>
    /// (objects class name → percent or null when undefined), plus <c>numClasses</c> and <c>validPixels</c>.
    /// Values keep full precision (mmsegmentation rounds its printed values to two decimals).
    /// </summary>
    public string ToJson() => ToJObject().ToString(Formatting.Indented);

    /// <summary>The object <see cref="ToJson"/> writes, for callers that add their own fields.</summary>
    public JObject ToJObject()
    {
        var iou = new JObject();
        var acc = new JObject();
        for (int k = 0; k < NumClasses; k++)
        {
            iou[ClassNames[k]] = Number(IoU[k]);
            acc[ClassNames[k]] = Number(Acc[k]);
        }
        return new JObject
        {
            ["mIoU"] = Number(MIoU),
            ["aAcc"] = Number(AAcc),
            ["mAcc"] = Number(MAcc),
            ["IoU"] = iou,
            ["Acc"] = acc,
            ["numClasses"] = NumClasses,
            ["validPixels"] = ValidPixels,
        };
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/> (creating its folder).</summary>
    public void WriteJson(string path)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, ToJson());
    }

    /// <summary>
    /// Flat scalar view for evaluator composites: "mIoU", "aAcc", "mAcc", "IoU.{class}", "Acc.{class}" (NaN kept).
    /// </summary>
    public IReadOnlyDictionary<string, double> ToDictionary()
    {
        var d = new Dictionary<string, double> { ["mIoU"] = MIoU, ["aAcc"] = AAcc, ["mAcc"] = MAcc };
        for (int k = 0; k < NumClasses; k++)
        {
            d[$"IoU.{ClassNames[k]}"] = IoU[k];
            d[$"Acc.{ClassNames[k]}"] = Acc[k];
        }
        return d;
    }

    private static double NanMean(IReadOnlyList<double> values)
    {
        double sum = 0;
        int n = 0;
        foreach (double v in values)
        {
            if (double.IsNaN(v)) continue;
            sum += v;
            n++;
        }
        return n == 0 ? double.NaN : sum / n;
    }

    private static string Format(double v) => double.IsNaN(v) ? "nan" : Math.Round(v, 2, MidpointRounding.ToEven).ToString("0.00", CultureInfo.InvariantCulture);

    private static JToken Number(double v) => double.IsNaN(v) ? JValue.CreateNull() : new JValue(v);
}
