using System.Globalization;
using System.Text;

namespace Man.Vision.Detection.Evaluation;

/// <summary>
/// The outcome of <see cref="CocoEval.Evaluate"/>: pycocotools' accumulated arrays, the twelve summary numbers with
/// their printed lines, and per-category AP.
/// </summary>
public sealed class CocoEvalResult
{
    /// <summary>The metric keys of <see cref="Stats"/>, in pycocotools' order.</summary>
    public static IReadOnlyList<string> StatNames { get; } = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"];

    private readonly double[] _stats;
    private readonly string[] _summaryLines;

    internal CocoEvalResult(CocoEvalParameters parameters, double[] iouThresholds, int[] maxDetections, long[] imageIds, long[] categoryIds,
        string[] categoryNames, double[,,,,] precision, double[,,,] recall, double evaluateSeconds, double accumulateSeconds)
    {
        Parameters = parameters;
        IouThresholds = iouThresholds;
        MaxDetections = maxDetections;
        ImageIds = imageIds;
        CategoryIds = categoryIds;
        CategoryNames = categoryNames;
        Precision = precision;
        Recall = recall;
        EvaluateSeconds = evaluateSeconds;
        AccumulateSeconds = accumulateSeconds;
        (_stats, _summaryLines) = Summarize();
        PerCategoryAp = ComputePerCategoryAp();
    }

    /// <summary>The parameters used.</summary>
    public CocoEvalParameters Parameters { get; }

    /// <summary>The IoU thresholds (T).</summary>
    public IReadOnlyList<double> IouThresholds { get; }

    /// <summary>The max-detections limits, ascending (M).</summary>
    public IReadOnlyList<int> MaxDetections { get; }

    /// <summary>The evaluated image ids, ascending.</summary>
    public IReadOnlyList<long> ImageIds { get; }

    /// <summary>The evaluated category ids, ascending (K when categories are used).</summary>
    public IReadOnlyList<long> CategoryIds { get; }

    /// <summary>The names of <see cref="CategoryIds"/>.</summary>
    public IReadOnlyList<string> CategoryNames { get; }

    /// <summary>Precision [T, R, K, A, M] as pycocotools' <c>eval['precision']</c>; −1 where a setting has no objects.</summary>
    public double[,,,,] Precision { get; }

    /// <summary>Recall [T, K, A, M] as pycocotools' <c>eval['recall']</c>; −1 where a setting has no objects.</summary>
    public double[,,,] Recall { get; }

    /// <summary>Seconds spent matching (pycocotools' evaluate).</summary>
    public double EvaluateSeconds { get; }

    /// <summary>Seconds spent accumulating.</summary>
    public double AccumulateSeconds { get; }

    /// <summary>The twelve summary numbers in the order of <see cref="StatNames"/> (−1 where undefined).</summary>
    public IReadOnlyList<double> Stats => _stats;

    /// <summary>The twelve lines pycocotools' <c>summarize()</c> prints, character for character.</summary>
    public IReadOnlyList<string> SummaryLines => _summaryLines;

    /// <summary>
    /// AP per category (IoU .50:.95, area all, the largest max-detections limit), NaN for a category without objects;
    /// keyed by category id.
    /// </summary>
    public IReadOnlyDictionary<long, double> PerCategoryAp { get; }

    /// <summary>The summary numbers as a dictionary under <see cref="StatNames"/>.</summary>
    public IReadOnlyDictionary<string, double> ToMetrics()
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int i = 0; i < StatNames.Count; i++) d[StatNames[i]] = _stats[i];
        return d;
    }

    /// <summary>
    /// The text pycocotools prints for evaluate, accumulate and summarize (timings are this run's), one line per line.
    /// </summary>
    public string FormatReport()
    {
        var sb = new StringBuilder();
        sb.Append("Running per image evaluation...\n");
        sb.Append($"Evaluate annotation type *{IouTypeName}*\n");
        sb.Append($"DONE (t={PythonFormat.Fixed(EvaluateSeconds, 2)}s).\n");
        sb.Append("Accumulating evaluation results...\n");
        sb.Append($"DONE (t={PythonFormat.Fixed(AccumulateSeconds, 2)}s).\n");
        foreach (var line in _summaryLines) sb.Append(line).Append('\n');
        return sb.ToString();
    }

    private string IouTypeName => Parameters.IouType == CocoIouType.Segm ? "segm" : "bbox";

    /// <summary>The twelve summary lines joined by newlines.</summary>
    public string FormatSummary() => string.Join('\n', _summaryLines) + "\n";

    /// <summary>
    /// A table of per-category AP (in percent, three columns of category/AP pairs, "nan" for categories without objects),
    /// as detectron2 prints it after the summary.
    /// </summary>
    public string FormatPerCategoryTable(int columns = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        var cells = CategoryIds.Select((id, i) => (Name: CategoryNames[i], Ap: PerCategoryAp[id])).ToList();
        int nameWidth = Math.Max("category".Length, cells.Count == 0 ? 0 : cells.Max(c => c.Name.Length));
        const int apWidth = 7;
        var sb = new StringBuilder();
        sb.Append($"Per-category {IouTypeName} AP (IoU=0.50:0.95, area=all, maxDets=")
          .Append(MaxDetections[^1].ToString(CultureInfo.InvariantCulture)).Append("), in %:\n");
        int cols = Math.Max(1, Math.Min(columns, cells.Count));
        var header = new StringBuilder("|");
        var rule = new StringBuilder("|");
        for (int c = 0; c < cols; c++)
        {
            header.Append(' ').Append("category".PadRight(nameWidth)).Append(" | ").Append("AP".PadRight(apWidth)).Append(" |");
            rule.Append(':').Append(new string('-', nameWidth + 1)).Append("|:").Append(new string('-', apWidth + 1)).Append('|');
        }
        sb.Append(header).Append('\n').Append(rule).Append('\n');
        for (int start = 0; start < cells.Count; start += cols)
        {
            sb.Append('|');
            for (int c = 0; c < cols; c++)
            {
                int i = start + c;
                string name = i < cells.Count ? cells[i].Name : "";
                string ap = i < cells.Count ? (double.IsNaN(cells[i].Ap) ? "nan" : PythonFormat.Fixed(cells[i].Ap * 100, 3)) : "";
                sb.Append(' ').Append(name.PadRight(nameWidth)).Append(" | ").Append(ap.PadRight(apWidth)).Append(" |");
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private (double[] Stats, string[] Lines) Summarize()
    {
        int m0 = MaxDetections[0], m1 = MaxDetections[1], m2 = MaxDetections[2];
        var settings = new (bool Ap, double? Iou, string Area, int MaxDets)[]
        {
            (true, null, "all", m2),
            (true, 0.5, "all", m2),
            (true, 0.75, "all", m2),
            (true, null, "small", m2),
            (true, null, "medium", m2),
            (true, null, "large", m2),
            (false, null, "all", m0),
            (false, null, "all", m1),
            (false, null, "all", m2),
            (false, null, "small", m2),
            (false, null, "medium", m2),
            (false, null, "large", m2),
        };
        var stats = new double[settings.Length];
        var lines = new string[settings.Length];
        for (int i = 0; i < settings.Length; i++)
        {
            var (ap, iou, area, maxDets) = settings[i];
            stats[i] = Mean(ap, iou, area, maxDets);
            string title = ap ? "Average Precision" : "Average Recall";
            string type = ap ? "(AP)" : "(AR)";
            string iouText = iou is null
                ? $"{PythonFormat.Fixed(IouThresholds[0], 2)}:{PythonFormat.Fixed(IouThresholds[^1], 2)}"
                : PythonFormat.Fixed(iou.Value, 2);
            lines[i] = string.Create(CultureInfo.InvariantCulture,
                $" {title,-18} {type} @[ IoU={iouText,-9} | area={area,6} | maxDets={maxDets,3} ] = {PythonFormat.Fixed(stats[i], 3)}");
        }
        return (stats, lines);
    }

    /// <summary>pycocotools' <c>_summarize</c>: the mean of the selected entries that are &gt; −1, or −1.</summary>
    private double Mean(bool ap, double? iou, string area, int maxDets)
    {
        var areas = Parameters.AreaRanges;
        var tIdx = Enumerable.Range(0, IouThresholds.Count).Where(t => iou is null || IouThresholds[t] == iou.Value).ToArray();
        var aIdx = Enumerable.Range(0, areas.Count).Where(a => areas[a].Label == area).ToArray();
        var mIdx = Enumerable.Range(0, MaxDetections.Count).Where(m => MaxDetections[m] == maxDets).ToArray();
        double sum = 0;
        long count = 0;
        int K = Recall.GetLength(1);
        foreach (int t in tIdx)
            foreach (int a in aIdx)
                foreach (int m in mIdx)
                    for (int k = 0; k < K; k++)
                    {
                        if (ap)
                        {
                            for (int r = 0; r < Precision.GetLength(1); r++)
                            {
                                double v = Precision[t, r, k, a, m];
                                if (v > -1) { sum += v; count++; }
                            }
                        }
                        else
                        {
                            double v = Recall[t, k, a, m];
                            if (v > -1) { sum += v; count++; }
                        }
                    }
        return count == 0 ? -1 : sum / count;
    }

    private Dictionary<long, double> ComputePerCategoryAp()
    {
        var result = new Dictionary<long, double>();
        int allArea = -1;
        for (int a = 0; a < Parameters.AreaRanges.Count; a++)
            if (Parameters.AreaRanges[a].Label == "all") { allArea = a; break; }
        int m = MaxDetections.Count - 1;
        int K = Precision.GetLength(2);
        for (int k = 0; k < CategoryIds.Count; k++)
        {
            double sum = 0;
            long count = 0;
            if (allArea >= 0 && k < K)
                for (int t = 0; t < Precision.GetLength(0); t++)
                    for (int r = 0; r < Precision.GetLength(1); r++)
                    {
                        double v = Precision[t, r, k, allArea, m];
                        if (v > -1) { sum += v; count++; }
                    }
            result[CategoryIds[k]] = count == 0 ? double.NaN : sum / count;
        }
        return result;
    }
}
