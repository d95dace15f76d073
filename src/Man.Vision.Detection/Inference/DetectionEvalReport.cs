using Man.Vision.Detection.Evaluation;

namespace Man.Vision.Detection.Inference;

/// <summary>What <see cref="DetectionInference.Evaluate"/> measured.</summary>
/// <param name="Coco">pycocotools' 12 numbers (<c>AP … ARl</c>, in [0, 1], −1 where undefined) and <c>AP-&lt;category&gt;</c>.</param>
/// <param name="CocoResult">Everything the COCO evaluation computed (printed table, per-category AP).</param>
/// <param name="Voc">VOC metrics (<c>mAP</c> = AP50 VOC2010+, <c>mAP07</c>, per class), or null.</param>
/// <param name="VocTable">The VOC per-class table, or null.</param>
/// <param name="Images">Images evaluated.</param>
/// <param name="Seconds">Wall time of the evaluation (loading included).</param>
/// <param name="ModelSeconds">Time spent in the detector.</param>
public sealed record DetectionEvalReport(IReadOnlyDictionary<string, double> Coco, CocoEvalResult CocoResult,
    IReadOnlyDictionary<string, double>? Voc, string? VocTable, int Images, double Seconds, double ModelSeconds)
{
    /// <summary>mAP@[.5:.95].</summary>
    public double AP => Coco["AP"];

    /// <summary>VOC AP50 (area, VOC2010+) averaged over classes, or null.</summary>
    public double? VocAp50 => Voc?["mAP"];

    /// <summary>The 12 COCO numbers only.</summary>
    public IReadOnlyDictionary<string, double> Stats => CocoEvalResult.StatNames.ToDictionary(k => k, k => Coco[k]);

    /// <summary>The printed report: pycocotools' summary lines, the per-category AP table and, for VOC data, the VOC table.</summary>
    public string Text => CocoResult.FormatSummary() + "\n" + CocoResult.FormatPerCategoryTable() + (VocTable is null ? "" : "\nPASCAL VOC AP at IoU 0.5:\n" + VocTable);
}
