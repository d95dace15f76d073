using Man.Vision.Detection.Evaluation;

namespace Man.Vision.Detection.Tests.Evaluation;

/// <summary>VOC AP on hand-worked cases (voc_eval.py rules).</summary>
public sealed class VocApTests
{
    private static readonly VocTruth G1 = new(0, 0, 9, 9);
    private static readonly VocTruth G2 = new(100, 100, 149, 149);
    private static readonly VocTruth G3 = new(200, 0, 219, 29);

    private static VocDetection At(long image, VocTruth g, double score) => new(image, g.X1, g.Y1, g.X2, g.Y2, score);

    private static VocDetection Miss(long image, double score) => new(image, 500, 500, 520, 520, score);

    private static Dictionary<long, IReadOnlyList<VocTruth>> Truths(params (long Image, VocTruth[] Objects)[] images) =>
        images.ToDictionary(x => x.Image, x => (IReadOnlyList<VocTruth>)x.Objects);

    [Fact]
    public void ThreeObjectsFourDetections()
    {
        // Sorted detections: TP(g1) 0.9, FP 0.8, TP(g2) 0.7, FP 0.6, with 3 positives:
        //   tp = [1, 1, 2, 2], fp = [0, 1, 1, 2] → rec = [1/3, 1/3, 2/3, 2/3], prec = [1, 1/2, 2/3, 1/2].
        // Area AP: envelope over mrec = [0, 1/3, 1/3, 2/3, 2/3, 1] is mpre = [1, 1, 2/3, 2/3, 1/2, 0];
        //   steps at recall 1/3 (×1) and 2/3 (×2/3), the last step reads 0 → AP = 1/3 + 2/9 = 5/9.
        // 11-point: t = 0, .1, .2, .3 reach recall ≥ t with max precision 1; t = .4, .5, .6 only the 2/3 points,
        //   max precision 2/3; t ≥ .7 never → AP07 = (4·1 + 3·2/3) / 11 = 6/11.
        var truths = Truths((1, [G1, G2]), (2, [G3]));
        VocDetection[] dets = [Miss(2, 0.6), At(1, G2, 0.7), Miss(1, 0.8), At(1, G1, 0.9)];
        var r = VocAp.EvaluateClass("thing", truths, dets);
        Assert.Equal(3, r.Positives);
        Assert.Equal(4, r.Detections);
        Assert.Equal(2, r.TruePositives);
        Assert.Equal([1.0 / 3, 1.0 / 3, 2.0 / 3, 2.0 / 3], r.Recall.ToArray(), new ToleranceComparer(1e-12));
        Assert.Equal([1, 0.5, 2.0 / 3, 0.5], r.Precision.ToArray(), new ToleranceComparer(1e-12));
        Assert.Equal(5.0 / 9, r.Ap, 1e-12);
        Assert.Equal(6.0 / 11, r.Ap07, 1e-12);
    }

    [Fact]
    public void PerfectDetectionsGiveOne()
    {
        var truths = Truths((1, [G1, G2]), (2, [G3]));
        var r = VocAp.EvaluateClass("thing", truths, [At(1, G1, 0.9), At(1, G2, 0.8), At(2, G3, 0.7)]);
        Assert.Equal(1, r.Ap, 1e-12);
        Assert.Equal(1, r.Ap07, 1e-12);
    }

    [Fact]
    public void DifficultObjectsAreNeitherTruePositiveNorFalsePositive()
    {
        // A difficult object adds no positive; its detection (score 0.85, between the others) is skipped entirely,
        // so the result equals the three-object case.
        var difficult = new VocTruth(300, 300, 339, 339, Difficult: true);
        var truths = Truths((1, [G1, G2, difficult]), (2, [G3]));
        VocDetection[] dets = [Miss(2, 0.6), At(1, G2, 0.7), Miss(1, 0.8), At(1, difficult, 0.85), At(1, G1, 0.9)];
        var r = VocAp.EvaluateClass("thing", truths, dets);
        Assert.Equal(3, r.Positives);
        Assert.Equal(5, r.Detections);
        Assert.Equal(5.0 / 9, r.Ap, 1e-12);
        Assert.Equal(6.0 / 11, r.Ap07, 1e-12);
        // Cumulative counts after the difficult detection do not move: rec/prec at index 1 equal those at index 0.
        Assert.Equal(r.Recall[0], r.Recall[1]);
        Assert.Equal(r.Precision[0], r.Precision[1]);
    }

    [Fact]
    public void EachObjectIsMatchedOnce()
    {
        // Two detections on g1: the second is an FP. rec = [1, 1], prec = [1, 1/2] → AP = 1 (recall 1 reached at precision 1).
        var r = VocAp.EvaluateClass("thing", Truths((1, [G1])), [At(1, G1, 0.9), At(1, G1, 0.8)]);
        Assert.Equal(1, r.TruePositives);
        Assert.Equal([1, 0.5], r.Precision.ToArray(), new ToleranceComparer(1e-12));
        Assert.Equal(1, r.Ap, 1e-12);
    }

    [Fact]
    public void IouCountsPixelsInclusively()
    {
        // [0,0,9,9] and [5,0,14,9] are 10×10 each; overlap 5×10 = 50 → 50 / (100 + 100 − 50) = 1/3
        // (without +1 it would be 36/126).
        Assert.Equal(1.0 / 3, VocAp.Iou(new VocDetection(1, 5, 0, 14, 9, 1), new VocTruth(0, 0, 9, 9)), 1e-12);
        // A single-pixel box has area 1.
        Assert.Equal(1.0, VocAp.Iou(new VocDetection(1, 3, 3, 3, 3, 1), new VocTruth(3, 3, 3, 3)));
    }

    [Fact]
    public void IouOfExactlyHalfIsNotAMatch()
    {
        // Detection 10×20 containing the 10×10 object: IoU = 100/200 = 0.5, and VOC needs IoU > 0.5.
        var r = VocAp.EvaluateClass("thing", Truths((1, [G1])), [new VocDetection(1, 0, 0, 9, 19, 0.9)]);
        Assert.Equal(0, r.TruePositives);
        Assert.Equal(0, r.Ap);
        var r2 = VocAp.EvaluateClass("thing", Truths((1, [G1])), [new VocDetection(1, 0, 0, 9, 18, 0.9)]); // 100/190
        Assert.Equal(1, r2.TruePositives);
    }

    [Fact]
    public void ElevenPointThresholdsAreNumpyArange()
    {
        // Recall exactly 0.3 is below numpy's third threshold 0.30000000000000004: only t = 0, .1, .2 count.
        double ap = VocAp.ElevenPointAp([0.3], [1.0]);
        Assert.Equal(3.0 / 11, ap, 1e-12);
    }

    [Fact]
    public void ClassWithoutPositivesHasNoAp()
    {
        var r = VocAp.EvaluateClass("thing", Truths(), [Miss(1, 0.5)]);
        Assert.True(double.IsNaN(r.Ap));
        Assert.True(double.IsNaN(r.Ap07));
    }

    [Fact]
    public void EvaluatorAveragesClassesWithPositives()
    {
        // Class 1 ("cat"): the three-object case (5/9, 6/11). Class 2 ("dog"): one object found exactly (1, 1).
        // Class 3 ("bird"): no objects → left out. Label 0 (background) is not a class and is ignored.
        var ev = VocEvaluator.FromNames(["cat", "dog", "bird"]);
        var truths = new[]
        {
            new DetectionTruth(1, [0, 0, 9, 9, 100, 100, 149, 149, 40, 40, 59, 59], [1, 1, 2]),
            new DetectionTruth(2, [200, 0, 219, 29, 0, 0, 5, 5], [1, 0]),
        };
        var outputs = new[]
        {
            new BoxDetections([100, 100, 149, 149, 500, 500, 520, 520, 0, 0, 9, 9, 40, 40, 59, 59, 0, 0, 3, 3],
                [0.7f, 0.8f, 0.9f, 0.5f, 0.95f], [1, 1, 1, 2, 3]),
            new BoxDetections([500, 500, 520, 520, 0, 0, 5, 5], [0.6f, 0.99f], [1, 0]),
        };
        ev.Reset();
        ev.Process([truths[0]], [outputs[0]]);
        ev.Process([truths[1]], [outputs[1]]);
        var m = ev.Evaluate();
        Assert.Equal(5.0 / 9, m["VOC-AP-cat"], 1e-6);
        Assert.Equal(6.0 / 11, m["VOC-AP07-cat"], 1e-6);
        Assert.Equal(1, m["VOC-AP-dog"], 1e-12);
        Assert.False(m.ContainsKey("VOC-AP-bird"));
        Assert.Equal((5.0 / 9 + 1) / 2, m["mAP"], 1e-6);
        Assert.Equal((6.0 / 11 + 1) / 2, m["mAP07"], 1e-6);
        Assert.Contains("cat", ev.FormatTable());
        Assert.Throws<ArgumentException>(() => ev.Process([truths[0]], [outputs[0]])); // same image twice
    }

    private sealed class ToleranceComparer(double tol) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tol;
        public int GetHashCode(double obj) => 0;
    }
}
