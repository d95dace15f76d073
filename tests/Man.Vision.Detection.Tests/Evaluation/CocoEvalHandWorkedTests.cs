using Man.Vision.Detection.Evaluation;

namespace Man.Vision.Detection.Tests.Evaluation;

/// <summary>Small COCO cases whose twelve numbers follow by hand from pycocotools' rules (worked out in comments).</summary>
public sealed class CocoEvalHandWorkedTests
{
    private const double Tol = 1e-12;

    private static CocoGroundTruth Truth(params CocoAnnotation[] annotations) =>
        CocoGroundTruth.Create(
            annotations.Select(a => a.ImageId).Append(1).Distinct().Select(id => new CocoImage(id)),
            [new CocoCategory(1, "cat"), new CocoCategory(2, "dog"), new CocoCategory(3, "bird")],
            annotations, "hand-made");

    private static CocoAnnotation Gt(long id, long image, long category, double x, double y, double w, double h, bool crowd = false, double? area = null) =>
        new(id, image, category, x, y, w, h, area ?? w * h, crowd);

    private static CocoDetection Dt(long image, long category, double x, double y, double w, double h, double score) =>
        new(image, category, x, y, w, h, score);

    private static IReadOnlyDictionary<string, double> Stats(CocoGroundTruth gt, params CocoDetection[] dets) =>
        CocoEval.Evaluate(gt, dets).ToMetrics();

    [Fact]
    public void PerfectDetectionsGiveOneEverywhere()
    {
        // One object per category and size range in one image: every setting has objects and every detection is exact.
        var gt = Truth(
            Gt(1, 1, 1, 10, 10, 10, 10),      // small: area 100
            Gt(2, 1, 2, 100, 100, 50, 50),    // medium: 2500
            Gt(3, 1, 3, 200, 200, 200, 200)); // large: 40000
        var stats = Stats(gt,
            Dt(1, 1, 10, 10, 10, 10, 0.9),
            Dt(1, 2, 100, 100, 50, 50, 0.8),
            Dt(1, 3, 200, 200, 200, 200, 0.7));
        foreach (var name in CocoEvalResult.StatNames)
            Assert.Equal(1.0, stats[name], Tol);
    }

    [Fact]
    public void FalsePositiveAboveTruePositiveHalvesPrecision()
    {
        // Sorted: FP (0.9), TP (0.8). tp = [0, 1], fp = [1, 1] → rc = [0, 1], pr = [0, 0.5] → monotone [0.5, 0.5];
        // every recall point reads 0.5, at every IoU threshold (the TP is exact). AP = AP50 = AP75 = APm = 0.5.
        // maxDets=1 keeps only the FP → AR1 = 0; AR10 = AR100 = ARm = 1. No small or large objects → −1.
        var gt = Truth(Gt(1, 1, 1, 100, 100, 50, 50));
        var stats = Stats(gt, Dt(1, 1, 300, 300, 50, 50, 0.9), Dt(1, 1, 100, 100, 50, 50, 0.8));
        Assert.Equal(0.5, stats["AP"], 1e-9);
        Assert.Equal(0.5, stats["AP50"], 1e-9);
        Assert.Equal(0.5, stats["AP75"], 1e-9);
        Assert.Equal(0.5, stats["APm"], 1e-9);
        Assert.Equal(-1, stats["APs"]);
        Assert.Equal(-1, stats["APl"]);
        Assert.Equal(0, stats["AR1"]);
        Assert.Equal(1, stats["AR10"]);
        Assert.Equal(1, stats["AR100"]);
        Assert.Equal(1, stats["ARm"]);
        Assert.Equal(-1, stats["ARs"]);
        Assert.Equal(-1, stats["ARl"]);
    }

    [Fact]
    public void TruePositiveAboveFalsePositiveKeepsFullPrecision()
    {
        // Sorted: TP (0.9), FP (0.8): rc = [1, 1], pr = [1, 0.5]; every recall point reads index 0 → AP = 1.
        var gt = Truth(Gt(1, 1, 1, 100, 100, 50, 50));
        var stats = Stats(gt, Dt(1, 1, 100, 100, 50, 50, 0.9), Dt(1, 1, 300, 300, 50, 50, 0.8));
        Assert.Equal(1, stats["AP"], Tol);
        Assert.Equal(1, stats["AR1"], Tol);
    }

    [Fact]
    public void IouThresholdsDecideTruePositives()
    {
        // Detection [100, 100, 50, 40] on object [100, 100, 50, 50]: IoU = 2000 / 2500 = 0.8, a TP at thresholds
        // 0.50 … 0.80 (7 of 10; 0.8 ≥ 0.8 matches), FP above. AP = 7/10, AP50 = AP75 = 1; AR = 0.7.
        var gt = Truth(Gt(1, 1, 1, 100, 100, 50, 50));
        var stats = Stats(gt, Dt(1, 1, 100, 100, 50, 40, 0.9));
        Assert.Equal(0.7, stats["AP"], 1e-9);
        Assert.Equal(1, stats["AP50"], Tol);
        Assert.Equal(1, stats["AP75"], Tol);
        Assert.Equal(0.7, stats["AR100"], 1e-9);
    }

    [Fact]
    public void CrowdRegionAbsorbsManyDetectionsWithoutCountingAsObject()
    {
        // A regular object A and a crowd region C. d1 matches A exactly; d2 and d3 lie inside C, where IoU with a crowd
        // is intersection / detection area = 1, so both match C (a crowd may be matched many times) and are ignored.
        // C is ignored as an object: npig = 1. Result: no FP at all, AP = AR = 1.
        var gt = Truth(
            Gt(1, 1, 1, 300, 300, 50, 50),
            Gt(2, 1, 1, 0, 0, 200, 200, crowd: true));
        var dets = new[]
        {
            Dt(1, 1, 300, 300, 50, 50, 0.7),
            Dt(1, 1, 10, 10, 40, 40, 0.9),
            Dt(1, 1, 100, 100, 60, 60, 0.8),
        };
        var stats = Stats(gt, dets);
        Assert.Equal(1, stats["AP"], Tol);
        Assert.Equal(1, stats["AR100"], Tol);

        // The same region as a regular object: d2 and d3 overlap it with IoU 1600/40000 and 3600/40000 → FPs above the
        // TP, and C itself is never found: at every threshold tp = [0, 0, 1], fp = [1, 2, 2], npig = 2 →
        // rc = [0, 0, 0.5], pr = [0, 0, 1/3] → monotone 1/3 up to recall 0.5 (51 points), 0 after.
        var regular = Truth(
            Gt(1, 1, 1, 300, 300, 50, 50),
            Gt(2, 1, 1, 0, 0, 200, 200));
        var stats2 = Stats(regular, dets);
        Assert.Equal(51.0 / 101 / 3, stats2["AP"], 1e-9);
        Assert.Equal(0.5, stats2["AR100"], Tol);
    }

    [Fact]
    public void CrowdIouUsesDetectionAreaAsUnion()
    {
        Assert.Equal(1.0, CocoEval.BoxIou(10, 10, 40, 40, 0, 0, 200, 200, crowd: true));
        Assert.Equal(1600.0 / 40000, CocoEval.BoxIou(10, 10, 40, 40, 0, 0, 200, 200, crowd: false));
        // Half of the detection inside the crowd region: 0.5; no +1 on sizes.
        Assert.Equal(0.5, CocoEval.BoxIou(180, 0, 40, 10, 0, 0, 200, 200, crowd: true));
        Assert.Equal(0.0, CocoEval.BoxIou(200, 0, 10, 10, 0, 0, 200, 200, crowd: false)); // touching edges
    }

    [Fact]
    public void MaxDetsCutsPerImageAfterSortingByScore()
    {
        // Ten non-overlapping FPs score above the only TP (the 11th): AR1 = AR10 = 0, AR100 = 1.
        // At maxDets=100: tp = 1 only at index 10 with fp = 10 → pr = 1/11 everywhere after the monotone pass → AP = 1/11.
        var gt = Truth(Gt(1, 1, 1, 1000, 1000, 50, 50));
        var dets = Enumerable.Range(0, 10).Select(i => Dt(1, 1, i * 60, 0, 50, 50, 0.9 - i * 0.01))
            .Append(Dt(1, 1, 1000, 1000, 50, 50, 0.5)).ToArray();
        var stats = Stats(gt, dets);
        Assert.Equal(0, stats["AR1"]);
        Assert.Equal(0, stats["AR10"]);
        Assert.Equal(1, stats["AR100"], Tol);
        Assert.Equal(1.0 / 11, stats["AP"], 1e-12);

        // 100 FPs above the TP: the TP is the 101st detection of the image and is dropped before matching.
        var many = Enumerable.Range(0, 100).Select(i => Dt(1, 1, (i % 10) * 60, (i / 10) * 60, 50, 50, 0.99 - i * 0.001))
            .Append(Dt(1, 1, 1000, 1000, 50, 50, 0.5)).ToArray();
        var stats2 = Stats(gt, many);
        Assert.Equal(0, stats2["AR100"]);
        Assert.Equal(0, stats2["AP"]);
    }

    [Fact]
    public void MaxDetsAppliesPerImageAndCategory()
    {
        // Two images with one object each; each image's single detection is its top one, so AR1 = 1.
        var gt = Truth(Gt(1, 1, 1, 0, 0, 50, 50), Gt(2, 2, 1, 0, 0, 50, 50));
        var stats = Stats(gt, Dt(1, 1, 0, 0, 50, 50, 0.9), Dt(2, 1, 0, 0, 50, 50, 0.1));
        Assert.Equal(1, stats["AR1"], Tol);
        Assert.Equal(1, stats["AP"], Tol);
    }

    [Fact]
    public void AreaRangesSplitObjectsAndIgnoreDetectionsOutsideTheRange()
    {
        // Small object (10×10) found, large object (100×100) missed.
        // all: npig = 2, one TP → rc = [0.5], pr = [1] → recall points 0.00 … 0.50 (51 of 101) read 1 → AP = 51/101.
        // small: the large object is ignored, AP = 1. large: the small object is ignored and the detection that matches
        // it is ignored too; nothing else → APl = 0, ARl = 0.
        var gt = Truth(Gt(1, 1, 1, 0, 0, 10, 10), Gt(2, 1, 1, 200, 200, 100, 100));
        var stats = Stats(gt, Dt(1, 1, 0, 0, 10, 10, 0.9));
        Assert.Equal(51.0 / 101, stats["AP"], 1e-12);
        Assert.Equal(1, stats["APs"], Tol);
        Assert.Equal(0, stats["APl"]);
        Assert.Equal(-1, stats["APm"]);
        Assert.Equal(0.5, stats["AR100"], Tol);
        Assert.Equal(1, stats["ARs"], Tol);
        Assert.Equal(0, stats["ARl"]);
    }

    [Fact]
    public void UnmatchedDetectionOutsideRangeDoesNotCountInThatRange()
    {
        // A large FP (100×100) above a small TP: in "all" it halves precision (AP = 0.5); in "small" the FP is outside
        // the range and unmatched, hence ignored → APs = 1.
        var gt = Truth(Gt(1, 1, 1, 0, 0, 10, 10));
        var stats = Stats(gt, Dt(1, 1, 500, 500, 100, 100, 0.9), Dt(1, 1, 0, 0, 10, 10, 0.8));
        Assert.Equal(0.5, stats["AP"], 1e-9);
        Assert.Equal(1, stats["APs"], Tol);
    }

    [Fact]
    public void AreaBoundsAreInclusive()
    {
        // area = 32² lies in both small [0, 32²] and medium [32², 96²]; area = 96² in both medium and large.
        var gt = Truth(Gt(1, 1, 1, 0, 0, 32, 32), Gt(2, 1, 2, 100, 100, 96, 96));
        var stats = Stats(gt, Dt(1, 1, 0, 0, 32, 32, 0.9), Dt(1, 2, 100, 100, 96, 96, 0.9));
        Assert.Equal(1, stats["APs"], Tol);
        Assert.Equal(1, stats["APm"], Tol);
        Assert.Equal(1, stats["APl"], Tol);
    }

    [Fact]
    public void AreaRangeUsesTheAnnotationAreaNotTheBox()
    {
        // A 50×50 box whose segment area is 500 (small): it counts as small, not medium.
        var gt = Truth(Gt(1, 1, 1, 0, 0, 50, 50, area: 500));
        var stats = Stats(gt, Dt(1, 1, 0, 0, 50, 50, 0.9));
        Assert.Equal(1, stats["APs"], Tol);
        Assert.Equal(-1, stats["APm"]);
    }

    [Fact]
    public void CategoriesWithoutGroundTruthAreLeftOut()
    {
        // Category 1 is found perfectly; category 2 has only a detection (no object): its precision stays −1 and does
        // not enter the mean; category 3 has nothing at all.
        var gt = Truth(Gt(1, 1, 1, 0, 0, 50, 50));
        var result = CocoEval.Evaluate(gt, [Dt(1, 1, 0, 0, 50, 50, 0.9), Dt(1, 2, 0, 0, 50, 50, 0.95)]);
        Assert.Equal(1, result.Stats[0], Tol);
        Assert.Equal(1, result.PerCategoryAp[1], Tol);
        Assert.True(double.IsNaN(result.PerCategoryAp[2]));
        Assert.True(double.IsNaN(result.PerCategoryAp[3]));
        Assert.Equal(-1, result.Precision[0, 0, 1, 0, 2]);
        Assert.Equal(-1, result.Recall[0, 1, 0, 2]);
    }

    [Fact]
    public void WithoutCategoriesAnyDetectionMayMatchAnyObject()
    {
        var gt = Truth(Gt(1, 1, 1, 0, 0, 50, 50));
        CocoDetection[] dets = [Dt(1, 2, 0, 0, 50, 50, 0.9)];
        Assert.Equal(0, CocoEval.Evaluate(gt, dets).Stats[0]);
        var agnostic = CocoEval.Evaluate(gt, dets, new CocoEvalParameters { UseCategories = false });
        Assert.Equal(1, agnostic.Stats[0], Tol);
    }

    [Fact]
    public void NoDetectionsGiveZeroAndNoObjectsGiveMinusOne()
    {
        var gt = Truth(Gt(1, 1, 1, 0, 0, 50, 50));
        var empty = CocoEval.Evaluate(gt, []);
        Assert.Equal(0, empty.Stats[0]);
        Assert.Equal(0, empty.Stats[8]);
        var nothing = CocoEval.Evaluate(Truth(), [Dt(1, 1, 0, 0, 5, 5, 0.5)]);
        Assert.All(nothing.Stats, s => Assert.Equal(-1, s));
        Assert.EndsWith("= -1.000", nothing.SummaryLines[0]);
    }

    [Fact]
    public void EqualScoresKeepInputOrder()
    {
        // Two detections with the same score on one object: the first in input order matches (TP), the second is an FP
        // below it → AP = 1. Reversed input order puts the FP first → AP = 0.5.
        var gt = Truth(Gt(1, 1, 1, 0, 0, 50, 50));
        var tpFirst = Stats(gt, Dt(1, 1, 0, 0, 50, 50, 0.5), Dt(1, 1, 300, 300, 50, 50, 0.5));
        var fpFirst = Stats(gt, Dt(1, 1, 300, 300, 50, 50, 0.5), Dt(1, 1, 0, 0, 50, 50, 0.5));
        Assert.Equal(1, tpFirst["AP"], Tol);
        Assert.Equal(0.5, fpFirst["AP"], 1e-9);
    }

    [Fact]
    public void SubsetOfImagesIsEvaluatedAlone()
    {
        var gt = Truth(Gt(1, 1, 1, 0, 0, 50, 50), Gt(2, 2, 1, 0, 0, 50, 50));
        CocoDetection[] dets = [Dt(1, 1, 0, 0, 50, 50, 0.9)];
        Assert.Equal(0.5, CocoEval.Evaluate(gt, dets).ToMetrics()["AR100"], Tol);
        Assert.Equal(1, CocoEval.Evaluate(gt, dets, new CocoEvalParameters { ImageIds = [1] }).ToMetrics()["AR100"], Tol);
    }

    [Fact]
    public void ThresholdsMatchNumpyLinspace()
    {
        var p = CocoEvalParameters.Default;
        Assert.Equal(10, p.IouThresholds.Count);
        Assert.Equal(0.75, p.IouThresholds[5]);
        Assert.Equal(0.8999999999999999, p.IouThresholds[8]); // numpy's value, not 0.9
        Assert.Equal(101, p.RecallThresholds.Count);
        Assert.Equal(0.07, p.RecallThresholds[7]);
        Assert.Equal(1.0, p.RecallThresholds[100]);
    }

    [Theory]
    [InlineData(0.0625, 3, "0.062")]
    [InlineData(0.3125, 3, "0.312")]
    [InlineData(0.4375, 3, "0.438")]
    [InlineData(0.9995, 3, "1.000")]
    [InlineData(-0.0001, 3, "-0.000")]
    [InlineData(-1.0, 3, "-1.000")]
    [InlineData(2.5, 3, "2.500")]
    [InlineData(0.125, 2, "0.12")]
    [InlineData(0.95, 2, "0.95")]
    public void NumbersAreFormattedAsPython(double value, int decimals, string expected) =>
        Assert.Equal(expected, PythonFormat.Fixed(value, decimals));

    [Fact]
    public void SummaryLinesHavePycocotoolsLayout()
    {
        var gt = Truth(Gt(1, 1, 1, 100, 100, 50, 50));
        var result = CocoEval.Evaluate(gt, [Dt(1, 1, 300, 300, 50, 50, 0.9), Dt(1, 1, 100, 100, 50, 50, 0.8)]);
        Assert.Equal(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.500", result.SummaryLines[0]);
        Assert.Equal(" Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = 0.500", result.SummaryLines[2]);
        Assert.Equal(" Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000", result.SummaryLines[3]);
        Assert.Equal(" Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.000", result.SummaryLines[6]);
        Assert.Equal(" Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 1.000", result.SummaryLines[10]);
    }
}
