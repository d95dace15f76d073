using Man.Testing;
using Man.Vision.Data.Masks;
using Man.Vision.Detection.Evaluation;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Evaluation;

/// <summary>COCO mask (segm) evaluation: pycocotools' rules with run-length masks.</summary>
public sealed class CocoSegmEvalTests
{
    private static readonly CocoEvalParameters Segm = new() { IouType = CocoIouType.Segm };

    private static Rle Rect(int h, int w, int x0, int y0, int x1, int y1)
    {
        var m = new byte[h * w];
        for (int y = y0; y < y1; y++) for (int x = x0; x < x1; x++) m[y * w + x] = 1;
        return Rle.Encode(m, h, w);
    }

    [Fact]
    public void MaskIouDecidesTruePositives()
    {
        // Object: rows 0..9, columns 0..9 (100 px). Detection: rows 2..11 → overlap 80, union 120, IoU 2/3: a TP at
        // thresholds .50 … .65 (4 of 10) → AP = 0.4, AP50 = 1, AP75 = 0. The boxes alone would give the same here.
        var gtMask = Rect(20, 20, 0, 0, 10, 10);
        var gt = CocoGroundTruth.Create([new CocoImage(1, 20, 20)], [new CocoCategory(1, "a")],
            [new CocoAnnotation(1, 1, 1, 0, 0, 10, 10, 100, false) { Segmentation = CocoSegmentation.FromRle(gtMask) }]);
        var dtMask = Rect(20, 20, 0, 2, 10, 12);
        var det = new CocoDetection(1, 1, 0, 2, 10, 10, 0.9) { Mask = dtMask, Area = dtMask.Area };
        var stats = CocoEval.Evaluate(gt, [det], Segm).ToMetrics();
        Assert.Equal(0.4, stats["AP"], 1e-9);
        Assert.Equal(1, stats["AP50"], 1e-12);
        Assert.Equal(0, stats["AP75"]);
    }

    [Fact]
    public void MasksNotBoxesAreCompared()
    {
        // Two L-shaped masks with identical bounding boxes but only 1/3 of their pixels in common: boxes match
        // perfectly (bbox AP = 1) while masks never reach IoU 0.5 (segm AP = 0).
        var a = new byte[10 * 10];
        var b = new byte[10 * 10];
        for (int y = 0; y < 10; y++)
            for (int x = 0; x < 10; x++)
            {
                if (x < 3 || y >= 7) a[y * 10 + x] = 1;  // left column band + bottom band
                if (x >= 7 || y < 3) b[y * 10 + x] = 1;  // right column band + top band
            }
        var ra = Rle.Encode(a, 10, 10);
        var rb = Rle.Encode(b, 10, 10);
        Assert.Equal(ra.ToBbox(), rb.ToBbox());
        var gt = CocoGroundTruth.Create([new CocoImage(1, 10, 10)], [new CocoCategory(1, "a")],
            [new CocoAnnotation(1, 1, 1, 0, 0, 10, 10, ra.Area, false) { Segmentation = CocoSegmentation.FromRle(ra) }]);
        var det = new CocoDetection(1, 1, 0, 0, 10, 10, 0.9) { Mask = rb, Area = rb.Area };
        Assert.Equal(1, CocoEval.Evaluate(gt, [det]).Stats[0], 1e-12);
        Assert.Equal(0, CocoEval.Evaluate(gt, [det], Segm).Stats[0]);
        Assert.Equal(18.0 / (51 + 51 - 18), Rle.Iou(rb, ra, crowd: false), 1e-15); // 2×(3×3) corners shared
    }

    [Fact]
    public void BoxResultsAreEvaluatedAsBoxPolygons()
    {
        // pycocotools' loadRes gives a box result without a segmentation the box polygon as mask: an integer box equal
        // to a rectangular object mask matches it exactly.
        var gtMask = Rect(30, 30, 5, 6, 15, 20);
        var gt = CocoGroundTruth.Create([new CocoImage(1, 30, 30)], [new CocoCategory(1, "a")],
            [new CocoAnnotation(1, 1, 1, 5, 6, 10, 14, 140, false) { Segmentation = CocoSegmentation.FromRle(gtMask) }]);
        var result = CocoEval.Evaluate(gt, [new CocoDetection(1, 1, 5, 6, 10, 14, 0.5)], Segm);
        Assert.Equal(1, result.Stats[0], 1e-12);
        Assert.Contains("Evaluate annotation type *segm*", result.FormatReport());
    }

    [SharedDataFact]
    public void GroundTruthMasksAsDetectionsScorePerfectly()
    {
        // Every non-crowd tiny-coco object detected with its own rasterised polygons: each detection has mask IoU 1
        // with its object, so AP, AP50, AP75 and AR100 are 1 in mask evaluation.
        var gt = CocoGroundTruth.Load(SharedData.Path("tiny-coco/instances_train2017_small.json"));
        var dets = gt.Annotations.Where(a => !a.IsCrowd).Select(a =>
        {
            var image = gt.GetImage(a.ImageId);
            var mask = a.Segmentation!.ToRle(image.Height, image.Width);
            var (x, y, w, h) = mask.ToBbox();
            return new CocoDetection(a.ImageId, a.CategoryId, x, y, w, h, 1.0) { Mask = mask, Area = mask.Area };
        }).ToList();
        var stats = CocoEval.Evaluate(gt, dets, Segm).ToMetrics();
        foreach (var key in new[] { "AP", "AP50", "AP75", "AR100" })
            Assert.Equal(1, stats[key], 1e-12);
    }

    [SharedDataFact]
    public void MaskResultsRoundTripThroughTheResultFile()
    {
        var gt = CocoGroundTruth.Load(SharedData.Path("tiny-coco/instances_train2017_small.json"));
        var rng = new Random(11);
        var dets = gt.Annotations.Where(a => !a.IsCrowd).Take(60).Select(a =>
        {
            var image = gt.GetImage(a.ImageId);
            // Shift each polygon by up to 4 px so IoUs spread over the thresholds.
            double dx = rng.NextDouble() * 8 - 4, dy = rng.NextDouble() * 8 - 4;
            var shifted = a.Segmentation!.Polygons!.Select(p => p.Select((v, i) => v + (i % 2 == 0 ? dx : dy)).ToArray()).ToList();
            var mask = CocoSegmentation.FromPolygons(shifted).ToRle(image.Height, image.Width);
            var (x, y, w, h) = mask.ToBbox();
            return new CocoDetection(a.ImageId, a.CategoryId, x, y, w, h, Math.Round(rng.NextDouble(), 4)) { Mask = mask };
        }).ToList();
        string path = Path.Combine(Path.GetTempPath(), $"segm-{Guid.NewGuid():N}.json");
        try
        {
            CocoResultsFile.Save(path, dets);
            var loaded = CocoResultsFile.Load(path, gt);
            Assert.Equal(dets.Count, loaded.Count);
            for (int i = 0; i < dets.Count; i++)
            {
                Assert.Equal(dets[i].Mask!.Counts, loaded[i].Mask!.Counts);
                // The file has a bbox, so (as pycocotools' loadRes) the box area decides the area range.
                Assert.Equal(dets[i].Width * dets[i].Height, loaded[i].Area);
            }
            var direct = CocoEval.Evaluate(gt, dets, Segm).Stats;
            var fromFile = CocoEval.Evaluate(gt, loaded, Segm).Stats;
            Assert.Equal(direct[0], fromFile[0]);
            Assert.InRange(direct[0], 0.05, 0.95);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void MaskOnlyResultsUseTheMaskAreaAndBox()
    {
        var gt = CocoGroundTruth.Parse(new StringReader("""
            {"images": [{"id": 1, "height": 4, "width": 4}], "categories": [{"id": 1}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4, "segmentation": {"size": [4, 4], "counts": [0, 2, 2, 2, 10]}}]}
            """), "gt");
        // "02208": runs 0, 2, 2, then 2 − 2 = 0 and 10 − 2 = 8 stored as differences → the top-left 2×2 square.
        var dets = CocoResultsFile.Parse(new StringReader("""[{"image_id": 1, "category_id": 1, "segmentation": {"size": [4, 4], "counts": "02208"}, "score": 0.9}]"""), "dets", gt);
        Assert.Equal(4, dets[0].Area);
        Assert.Equal((0.0, 0.0, 2.0, 2.0), (dets[0].X, dets[0].Y, dets[0].Width, dets[0].Height));
        Assert.Equal(1, CocoEval.Evaluate(gt, dets, Segm).Stats[0], 1e-12);
        var wrongSize = Assert.Throws<InvalidDataException>(() => CocoResultsFile.Parse(new StringReader(
            """[{"image_id": 1, "category_id": 1, "segmentation": {"size": [5, 4], "counts": "0230:"}, "score": 0.9}]"""), "dets", gt));
        Assert.Contains("5×4 but image 1 is 4×4", wrongSize.Message);
    }

    [Fact]
    public void EvaluatorComparesTensorMasks()
    {
        // Ground truth: a 6×6 square in a 16×16 image; detection probabilities 0.9 on rows shifted by 2 → IoU 24/48 = 0.5:
        // a TP at threshold .50 only → AP = 0.1, AP50 = 1.
        using var scope = NewDisposeScope();
        var gtMask = zeros(1, 16, 16, dtype: ScalarType.Byte);
        gtMask[0, TensorIndex.Slice(2, 8), TensorIndex.Slice(2, 8)] = tensor((byte)1);
        var dtMask = zeros(1, 1, 16, 16);
        dtMask[0, 0, TensorIndex.Slice(4, 10), TensorIndex.Slice(2, 8)] = tensor(0.9f);
        var truth = DetectionTruth.FromTensors(1, tensor(new float[] { 2, 2, 8, 8 }, [1, 4]), tensor(new long[] { 1 }), masks: gtMask);
        var output = BoxDetections.FromTensors(tensor(new float[] { 2, 4, 8, 10 }, [1, 4]), tensor(new float[] { 0.8f }), tensor(new long[] { 1 }), dtMask);
        var ev = new CocoEvaluator(parameters: Segm);
        ev.Process([truth], [output]);
        var m = ev.Evaluate();
        Assert.Equal(0.1, m["AP"], 1e-9);
        Assert.Equal(1, m["AP50"], 1e-12);
        Assert.Equal(36, truth.Masks![0].Area);
        Assert.Equal(CocoIouType.Segm, ev.LastResult!.Parameters.IouType);
        var noMasks = new CocoEvaluator(parameters: Segm);
        noMasks.Process([truth], [new BoxDetections([2, 4, 8, 10], [0.8f], [1])]);
        Assert.Throws<InvalidOperationException>(() => noMasks.Evaluate());
    }
}
