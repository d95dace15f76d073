using Man.Testing;
using Man.Vision.Data.Evaluation;
using Man.Vision.Detection.Evaluation;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Evaluation;

/// <summary>The COCO evaluator behind the shared evaluator interface.</summary>
public sealed class CocoEvaluatorTests
{
    [Fact]
    public void GroundTruthBuiltFromInputsEqualsDirectEvaluation()
    {
        // Image 1: a cat found exactly and a crowd region; image 2: a dog found at IoU 0.8 (7/10 thresholds) and a FP.
        var truths = new[]
        {
            new DetectionTruth(1, [0, 0, 50, 50, 100, 100, 300, 300], [1, 1], isCrowd: [false, true]),
            new DetectionTruth(2, [10, 10, 60, 60], [2]),
        };
        var outputs = new[]
        {
            new BoxDetections([0, 0, 50, 50, 120, 120, 160, 160], [0.9f, 0.8f], [1, 1]),
            new BoxDetections([10, 10, 60, 50, 400, 400, 450, 450], [0.7f, 0.6f], [2, 2]),
        };
        var ev = new CocoEvaluator();
        ev.Reset();
        ev.Process(truths, outputs);
        var m = ev.Evaluate();

        var gt = CocoGroundTruth.Create([new CocoImage(1), new CocoImage(2)], [new CocoCategory(1, "1"), new CocoCategory(2, "2")],
        [
            new CocoAnnotation(1, 1, 1, 0, 0, 50, 50, 2500, false),
            new CocoAnnotation(2, 1, 1, 100, 100, 200, 200, 40000, true),
            new CocoAnnotation(3, 2, 2, 10, 10, 50, 50, 2500, false),
        ]);
        var direct = CocoEval.Evaluate(gt,
        [
            new CocoDetection(1, 1, 0, 0, 50, 50, 0.9f), new CocoDetection(1, 1, 120, 120, 40, 40, 0.8f),
            new CocoDetection(2, 2, 10, 10, 50, 40, 0.7f), new CocoDetection(2, 2, 400, 400, 50, 50, 0.6f),
        ]);
        foreach (var (name, value) in direct.ToMetrics())
            Assert.Equal(value, m[name]);
        // Hand check: cat AP = 1 (the crowd absorbs the second detection); dog AP = 0.7 → AP = 0.85.
        Assert.Equal(0.85, m["AP"], 1e-9);
        Assert.Equal(1, m["AP-1"], 1e-12);
        Assert.Equal(0.7, m["AP-2"], 1e-9);
    }

    [Fact]
    public void LabelsMapToCategoriesAndNamesBecomeKeys()
    {
        var ev = new CocoEvaluator(labelToCategoryId: new Dictionary<long, long> { [1] = 18, [2] = 90 },
            categoryNames: new Dictionary<long, string> { [18] = "dog", [90] = "toothbrush" });
        ev.Process([new DetectionTruth(7, [0, 0, 50, 50], [1])], [new BoxDetections([0, 0, 50, 50], [0.5f], [1])]);
        var m = ev.Evaluate();
        Assert.Equal(1, m["AP"], 1e-12);
        Assert.Equal(1, m["AP-dog"], 1e-12);
        Assert.False(m.ContainsKey("AP-toothbrush")); // no ground truth
        Assert.Equal([18L, 90L], ev.LastResult!.CategoryIds);
        Assert.Throws<ArgumentException>(() =>
            ev.Process([new DetectionTruth(8, [], [])], [new BoxDetections([0, 0, 5, 5], [0.5f], [3])])); // unmapped label
    }

    [Fact]
    public void ResetForgetsProcessedImages()
    {
        var ev = new CocoEvaluator();
        ev.Process([new DetectionTruth(1, [0, 0, 50, 50], [1])], [BoxDetections.Empty]);
        Assert.Equal(0, ev.Evaluate()["AP"]);
        ev.Reset();
        ev.Process([new DetectionTruth(1, [0, 0, 50, 50], [1])], [new BoxDetections([0, 0, 50, 50], [0.5f], [1])]);
        Assert.Equal(1, ev.Evaluate()["AP"], 1e-12);
        Assert.Throws<ArgumentException>(() => ev.Process([new DetectionTruth(1, [], [])], [BoxDetections.Empty]));
    }

    [Fact]
    public void TensorsConvertToRecords()
    {
        using var scope = NewDisposeScope();
        var truth = DetectionTruth.FromTensors(3, tensor(new float[] { 0, 0, 10, 20 }, [1, 4]), tensor(new long[] { 5 }),
            isCrowd: tensor(new long[] { 1 }), areas: tensor(new float[] { 150 }));
        Assert.Equal([0f, 0, 10, 20], truth.Boxes);
        Assert.Equal([5L], truth.Labels);
        Assert.Equal([true], truth.IsCrowd!);
        Assert.Equal([150f], truth.Areas!);
        var dets = BoxDetections.FromTensors(zeros(0, 4), zeros(0), zeros(0, dtype: ScalarType.Int64));
        Assert.Equal(0, dets.Count);
        Assert.Throws<ArgumentException>(() => BoxDetections.FromTensors(zeros(2, 5), zeros(2), zeros(2, dtype: ScalarType.Int64)));
    }

    [SharedDataFact]
    public void FileGroundTruthWithInMemoryDetectionsEqualsFileEvaluation()
    {
        // The fixture's detections fed through the evaluator interface (xyxy float32, as a model would give them)
        // equal a file evaluation of the same float32-rounded boxes.
        var gt = CocoGroundTruth.Load(SharedData.Path("tiny-coco/instances_train2017_small.json"));
        var dets = CocoResultsFile.Load(SharedData.Fixture("cocoeval/detections.json"), gt);
        var ev = new CocoEvaluator(gt);
        var rounded = new List<CocoDetection>();
        foreach (var image in gt.Images)
        {
            var mine = dets.Where(d => d.ImageId == image.Id).ToList();
            var boxes = mine.SelectMany(d => new[] { (float)d.X, (float)d.Y, (float)d.X + (float)d.Width, (float)d.Y + (float)d.Height }).ToArray();
            var output = new BoxDetections(boxes, mine.Select(d => (float)d.Score).ToArray(), mine.Select(d => d.CategoryId).ToArray());
            ev.Process([new DetectionTruth(image.Id, [], [])], [output]);
            for (int i = 0; i < mine.Count; i++)
            {
                float x1 = boxes[4 * i], y1 = boxes[4 * i + 1], x2 = boxes[4 * i + 2], y2 = boxes[4 * i + 3];
                rounded.Add(new CocoDetection(image.Id, mine[i].CategoryId, x1, y1, x2 - x1, y2 - y1, (float)mine[i].Score));
            }
        }
        var metrics = ev.Evaluate();
        var direct = CocoEval.Evaluate(gt, rounded).ToMetrics();
        foreach (var (name, value) in direct)
            Assert.Equal(value, metrics[name]);
        // Rounding boxes to float32 barely moves pycocotools' number (0.2684725200084762).
        Assert.Equal(0.2684725200084762, metrics["AP"], 2e-3);
    }

    [Fact]
    public void CompositeOfCocoAndVocRunsBoth()
    {
        var composite = new CompositeEvaluator<DetectionTruth, BoxDetections>(new CocoEvaluator(), VocEvaluator.FromNames(["cat"]));
        composite.Reset();
        composite.Process([new DetectionTruth(1, [0, 0, 50, 50], [1])], [new BoxDetections([0, 0, 50, 50], [0.9f], [1])]);
        var m = composite.Evaluate();
        Assert.Equal(1, m["AP"], 1e-12);
        Assert.Equal(1, m["mAP"], 1e-12);
        Assert.Equal(1, m["VOC-AP-cat"], 1e-12);
    }
}
