using Man.Vision.Data.Evaluation;
using Man.Vision.Segmentation.Evaluation;
using Newtonsoft.Json.Linq;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Tests.Evaluation;

public sealed class IoUMetricTests
{
    // Hand-worked case, C = 3, ignore 255, one 3×4 image (row-major):
    //   label: 0 0 1 1 | 1 2 2 255 | 0 1 255 2
    //   pred : 0 1 1 1 | 0 2 1 2   | 0 1 0   0
    // Valid pixels (label ≠ 255): 10. (label, pred) pairs: (0,0) (0,1) (1,1) (1,1) (1,0) (2,2) (2,1) (0,0) (1,1) (2,0).
    //   label areas: c0 = 3, c1 = 4, c2 = 3;   predicted areas: c0 = 4, c1 = 5, c2 = 1;   intersections: 2, 3, 1.
    //   unions = pred + label − inter: c0 = 5, c1 = 6, c2 = 3.
    //   IoU = 2/5, 3/6, 1/3 = 40, 50, 33.333 %  → mIoU = 41.111 %
    //   Acc = 2/3, 3/4, 1/3 = 66.667, 75, 33.333 % → mAcc = 58.333 %;  aAcc = (2 + 3 + 1) / 10 = 60 %.
    internal static readonly long[] HandLabel = [0, 0, 1, 1, 1, 2, 2, 255, 0, 1, 255, 2];
    internal static readonly long[] HandPred = [0, 1, 1, 1, 0, 2, 1, 2, 0, 1, 0, 0];

    [Fact]
    public void Hand_worked_case()
    {
        var metric = new IoUMetric(3, classNames: ["sky", "road", "car"]);
        Process(metric, HandPred, HandLabel, 3, 4);
        SegmentationMetrics m = metric.Evaluate();
        Assert.Equal([2L, 3, 1], m.Intersection);
        Assert.Equal([5L, 6, 3], m.Union);
        Assert.Equal([4L, 5, 1], m.PredictedArea);
        Assert.Equal([3L, 4, 3], m.LabelArea);
        AssertClose([40, 50, 100.0 / 3], m.IoU);
        AssertClose([200.0 / 3, 75, 100.0 / 3], m.Acc);
        Assert.Equal(41.1111111, m.MIoU, 6);
        Assert.Equal(58.3333333, m.MAcc, 6);
        Assert.Equal(60.0, m.AAcc, 9);
        Assert.Equal(10, m.ValidPixels);
    }

    [Fact]
    public void Classes_absent_from_prediction_and_label_are_excluded_and_predicted_only_classes_count_zero()
    {
        // C = 5. Same maps, except pixel 0 is predicted 3 (a class never labelled); class 4 appears nowhere.
        //   c0: inter 1, label 3, pred 3 → union 5, IoU 20 %, Acc 33.333 %
        //   c1: IoU 50 %, Acc 75 %;  c2: IoU 33.333 %, Acc 33.333 %
        //   c3: inter 0, label 0, pred 1 → union 1: IoU 0 % (counted), Acc NaN (label area 0, excluded)
        //   c4: union 0 → IoU NaN, Acc NaN (excluded from both means)
        //   mIoU = (20 + 50 + 33.333 + 0) / 4 = 25.8333 %;  mAcc = (33.333 + 75 + 33.333) / 3 = 47.2222 %;  aAcc = 5/10 = 50 %.
        long[] pred = (long[])HandPred.Clone();
        pred[0] = 3;
        var metric = new IoUMetric(5);
        Process(metric, pred, HandLabel, 3, 4);
        SegmentationMetrics m = metric.Evaluate();
        AssertClose([20, 50, 100.0 / 3, 0, double.NaN], m.IoU);
        AssertClose([100.0 / 3, 75, 100.0 / 3, double.NaN, double.NaN], m.Acc);
        Assert.Equal(25.8333333, m.MIoU, 6);
        Assert.Equal(47.2222222, m.MAcc, 6);
        Assert.Equal(50.0, m.AAcc, 9);
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 11)]
    [InlineData(3, 21)]
    public void Random_maps_match_the_closed_form_computed_with_loops(int seed, int numClasses)
    {
        var rng = new Random(seed);
        var metric = new IoUMetric(numClasses);
        var inter = new long[numClasses];
        var predArea = new long[numClasses];
        var labelArea = new long[numClasses];
        // Three batches of different sizes; classes drawn from a skewed distribution so some are rare; with 21 classes
        // only 0..18 are drawn, so classes 19 and 20 are absent from both prediction and label.
        int drawn = numClasses == 21 ? 19 : numClasses;
        foreach (var (n, h, w) in new[] { (2, 17, 23), (1, 31, 9), (3, 8, 8) })
        {
            int count = n * h * w;
            var label = new long[count];
            var pred = new long[count];
            for (int i = 0; i < count; i++)
            {
                label[i] = rng.NextDouble() < 0.1 ? 255 : SkewedClass(rng, drawn);
                pred[i] = rng.NextDouble() < 0.6 && label[i] != 255 ? label[i] : SkewedClass(rng, drawn);
                if (label[i] == 255) continue;
                labelArea[label[i]]++;
                predArea[pred[i]]++;
                if (pred[i] == label[i]) inter[label[i]]++;
            }
            using var scope = NewDisposeScope();
            metric.Process(tensor(pred, [n, h, w]), tensor(label, [n, h, w]));
        }
        SegmentationMetrics m = metric.Evaluate();

        var iou = new List<double>();
        var acc = new List<double>();
        for (int c = 0; c < numClasses; c++)
        {
            long union = predArea[c] + labelArea[c] - inter[c];
            Assert.Equal(inter[c], m.Intersection[c]);
            Assert.Equal(union, m.Union[c]);
            Assert.Equal(predArea[c], m.PredictedArea[c]);
            Assert.Equal(labelArea[c], m.LabelArea[c]);
            if (union > 0) { iou.Add(100.0 * inter[c] / union); Assert.Equal(iou[^1], m.IoU[c], 9); }
            else Assert.True(double.IsNaN(m.IoU[c]));
            if (labelArea[c] > 0) { acc.Add(100.0 * inter[c] / labelArea[c]); Assert.Equal(acc[^1], m.Acc[c], 9); }
            else Assert.True(double.IsNaN(m.Acc[c]));
        }
        Assert.Equal(iou.Average(), m.MIoU, 9);
        Assert.Equal(acc.Average(), m.MAcc, 9);
        Assert.Equal(100.0 * inter.Sum() / labelArea.Sum(), m.AAcc, 9);
        if (numClasses == 21) Assert.Equal(19, iou.Count);
    }

    [Fact]
    public void Samples_of_different_sizes_accumulate_like_one_batch()
    {
        using var scope = NewDisposeScope();
        var whole = new IoUMetric(3);
        Process(whole, HandPred, HandLabel, 3, 4);
        var split = new IoUMetric(3);
        // The same pixels as a 4×2 and a 4×1 image.
        split.ProcessSamples(
            [tensor(HandLabel[..8], [2, 4]), tensor(HandLabel[8..], [1, 4])],
            [tensor(HandPred[..8], [2, 4]), tensor(HandPred[8..], [1, 4])]);
        Assert.Equal(whole.ConfusionMatrix, split.ConfusionMatrix);
        var e = Assert.Throws<ArgumentException>(() => split.ProcessSamples([tensor(HandLabel[..8], [2, 4])], [tensor(HandPred[..8], [4, 2])]));
        Assert.Contains("Sample 0", e.Message);
        Assert.Throws<ArgumentException>(() => split.ProcessSamples([tensor(HandLabel[..8], [2, 4])], []));
    }

    [Fact]
    public void Shared_evaluator_contract_gives_the_flat_metrics()
    {
        using var scope = NewDisposeScope();
        IEvaluator<Tensor, Tensor> evaluator = new IoUMetric(3, classNames: ["sky", "road", "car"]);
        var batches = new[]
        {
            ((IReadOnlyList<Tensor>)[tensor(HandLabel[..8], [2, 4])], (IReadOnlyList<Tensor>)[tensor(HandPred[..8], [2, 4])]),
            ([tensor(HandLabel[8..], [1, 4])], [tensor(HandPred[8..], [1, 4])]),
        };
        var metrics = evaluator.EvaluateAll(batches);
        Assert.Equal(41.1111111, metrics["mIoU"], 6);
        Assert.Equal(60.0, metrics["aAcc"], 9);
        Assert.Equal(58.3333333, metrics["mAcc"], 6);
        Assert.Equal(50.0, metrics["IoU.road"], 9);
        Assert.Equal(75.0, metrics["Acc.road"], 9);
        Assert.Equal(9, metrics.Count);
        Assert.Throws<ArgumentException>(() => evaluator.Process([tensor(HandLabel[..8], [2, 4])], []));
    }

    [Fact]
    public void Ignored_pixels_do_not_count_whatever_is_predicted_there()
    {
        var a = new IoUMetric(3);
        Process(a, HandPred, HandLabel, 3, 4);
        long[] pred = (long[])HandPred.Clone();
        pred[7] = 0;
        pred[10] = 1; // the two ignored pixels
        var b = new IoUMetric(3);
        Process(b, pred, HandLabel, 3, 4);
        Assert.Equal(a.ConfusionMatrix, b.ConfusionMatrix);
        Assert.Equal(a.Evaluate().MIoU, b.Evaluate().MIoU);
    }

    [Fact]
    public void Reset_forgets_and_results_accumulate_over_the_data_set()
    {
        var metric = new IoUMetric(3);
        Process(metric, HandPred, HandLabel, 3, 4);
        Process(metric, HandPred, HandLabel, 3, 4);
        Assert.Equal([4L, 6, 2], metric.Evaluate().Intersection);
        Assert.Equal(41.1111111, metric.Evaluate().MIoU, 6);
        metric.Reset();
        Assert.Equal(0, metric.Processed);
        Assert.True(double.IsNaN(metric.Evaluate().MIoU));
    }

    [Fact]
    public void Out_of_range_values_and_shape_mismatches_are_rejected()
    {
        using var scope = NewDisposeScope();
        var metric = new IoUMetric(3);
        var e = Assert.Throws<ArgumentException>(() => metric.Process(tensor(new long[] { 0, 1 }), tensor(new long[] { 0, 7 })));
        Assert.Contains("Label value 7", e.Message);
        e = Assert.Throws<ArgumentException>(() => metric.Process(tensor(new long[] { 0, 3 }), tensor(new long[] { 0, 1 })));
        Assert.Contains("Prediction value 3", e.Message);
        e = Assert.Throws<ArgumentException>(() => metric.Process(tensor(new long[] { 0, 1 }), tensor(new long[] { -1, 1 })));
        Assert.Contains("Label value -1", e.Message);
        e = Assert.Throws<ArgumentException>(() => metric.Process(zeros([2, 3], ScalarType.Int64), zeros([3, 2], ScalarType.Int64)));
        Assert.Contains("differ in shape", e.Message);
        Assert.Throws<ArgumentException>(() => metric.Process(zeros([2]), zeros([2], ScalarType.Int64)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new IoUMetric(3, ignoreIndex: 2));
        Assert.Throws<ArgumentException>(() => new IoUMetric(3, classNames: ["a", "b"]));
        Assert.Equal(0, metric.Processed);
    }

    [Fact]
    public void Table_and_json_carry_class_names_and_undefined_values()
    {
        long[] pred = (long[])HandPred.Clone();
        pred[0] = 3;
        var metric = new IoUMetric(5, classNames: ["sky", "road", "car", "pedestrian", "bicyclist"]);
        Process(metric, pred, HandLabel, 3, 4);
        SegmentationMetrics m = metric.Evaluate();

        string table = m.FormatTable();
        Assert.Contains("| pedestrian |   0.00 |    nan |", table);
        Assert.Contains("| bicyclist  |    nan |    nan |", table);
        Assert.Contains("| sky        |  20.00 |  33.33 |", table);
        Assert.Contains("|  50.00 |  25.83 |  47.22 |", table);

        JObject json = JObject.Parse(m.ToJson());
        Assert.Equal(25.8333333, (double)json["mIoU"]!, 6);
        Assert.Equal(50.0, (double)json["aAcc"]!, 9);
        Assert.Equal(47.2222222, (double)json["mAcc"]!, 6);
        Assert.Equal(20.0, (double)json["IoU"]!["sky"]!, 9);
        Assert.Equal(0.0, (double)json["IoU"]!["pedestrian"]!, 9);
        Assert.Equal(JTokenType.Null, json["IoU"]!["bicyclist"]!.Type);
        Assert.Equal(JTokenType.Null, json["Acc"]!["pedestrian"]!.Type);
        Assert.Equal(75.0, (double)json["Acc"]!["road"]!, 9);
        Assert.Equal(10, (long)json["validPixels"]!);
    }

    internal static void Process(IoUMetric metric, long[] pred, long[] label, int h, int w)
    {
        using var scope = NewDisposeScope();
        metric.Process(tensor(pred, [1, h, w]), tensor(label, [1, h, w]));
    }

    private static int SkewedClass(Random rng, int numClasses) =>
        Math.Min(numClasses - 1, (int)(numClasses * Math.Pow(rng.NextDouble(), 2.5)));

    private static void AssertClose(double[] expected, IReadOnlyList<double> actual)
    {
        Assert.Equal(expected.Length, actual.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsNaN(expected[i])) Assert.True(double.IsNaN(actual[i]), $"class {i}: expected NaN, got {actual[i]}");
            else Assert.Equal(expected[i], actual[i], 9);
        }
    }
}
