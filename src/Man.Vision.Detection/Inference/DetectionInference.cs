using System.Diagnostics;
using Man.Vision.Data.Batching;
using Man.Vision.Data.DetectionTransforms;
using Man.Vision.Data.Loading;
using Man.Vision.Data.Records;
using Man.Vision.Detection.Evaluation;
using Man.Vision.Detection.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Inference;

/// <summary>
/// The inference runner of detection (detectron2's <c>inference_on_dataset</c>): eval mode, no-grad, timing, and feeding
/// the evaluators. Images are resized and normalised by the data layer (torchvision's arithmetic), so the detector runs
/// on the loader's padded batch directly and its detections are scaled back to the records' original sizes.
/// </summary>
public static class DetectionInference
{
    /// <summary>
    /// Detections for a batch that is already resized, normalised and zero-padded (what the model's own transform
    /// would give), in the pixels of <paramref name="originalSizes"/>.
    /// </summary>
    /// <param name="model">The detector; call <c>eval()</c> first.</param>
    /// <param name="batch">Padded batch <c>[B, 3, H, W]</c> and the resized size of each image.</param>
    /// <param name="originalSizes">Per image, the size its boxes are reported in.</param>
    public static IReadOnlyList<Detections> Predict(GeneralizedRcnn model, ImageList batch, IReadOnlyList<ImageSize> originalSizes)
    {
        if (originalSizes.Count != batch.ImageSizes.Count)
            throw new ArgumentException($"{originalSizes.Count} original sizes for {batch.ImageSizes.Count} images.", nameof(originalSizes));
        // No garbage collection while native code runs (Man.Runtime.CollectorPause): TorchSharp's temporary scalars of
        // this forward pass must not be finalized by a collection that a loader thread starts.
        using var pause = Man.Runtime.CollectorPause.Enter();
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        var features = model.Backbone.call(batch.Tensors);
        var (proposals, _) = model.Rpn.Forward(batch, features.Values.ToList(), null);
        var detections = model.RoiHeads.Predict(features, proposals, batch.ImageSizes);
        var result = model.Transform.Postprocess(detections, batch.ImageSizes, originalSizes);
        foreach (var d in result) { d.Boxes.MoveToOuterDisposeScope(); d.Scores.MoveToOuterDisposeScope(); d.Labels.MoveToOuterDisposeScope(); }
        return result;
    }

    /// <summary>The evaluation transform: torchvision's resize by min/max side, then ImageNet normalisation.</summary>
    public static DetectionCompose EvalTransform(TransformOptions options) =>
        new([new ResizeByMinMaxSide(options.MinSize, options.MaxSize), new Normalize(options.ImageMean, options.ImageStd)]);

    /// <summary>
    /// Runs the detector over <paramref name="data"/> and evaluates it with pycocotools' protocol (ground truth built
    /// from the records: original boxes, areas and crowd flags; categories by the data set's ids) and, when
    /// <paramref name="voc"/>, with VOC AP at IoU 0.5.
    /// </summary>
    /// <param name="model">The detector (put in eval mode here; the caller restores training mode).</param>
    /// <param name="data">The records to evaluate (their categories must be the model's classes, in order).</param>
    /// <param name="voc">Also compute VOC AP50 (VOC2010+ area and VOC07 11-point).</param>
    /// <param name="batchSize">Images per forward pass; 1 (torchvision's reference) makes the detections independent of which
    /// images share a padded batch.</param>
    /// <param name="workers">Data loading threads.</param>
    /// <param name="maxImages">Evaluate only the first N images (0: all).</param>
    /// <param name="device">Compute device (the model's).</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    public static DetectionEvalReport Evaluate(GeneralizedRcnn model, DetectionDataset data, bool voc, int batchSize = 1, int workers = 2,
        int maxImages = 0, Device? device = null, CancellationToken cancellationToken = default)
    {
        if (maxImages > 0 && maxImages < data.Images.Count) data = data with { Images = data.Images.Take(maxImages).ToList() };
        var categories = data.Categories;
        var labelToCategory = Enumerable.Range(1, categories.Count).ToDictionary(l => (long)l, l => (long)categories.CategoryIdOf(l));
        var names = categories.Categories.ToDictionary(c => (long)c.Id, c => c.Name);
        var coco = new CocoEvaluator(null, labelToCategory, categoryNames: names);
        var vocEval = voc ? VocEvaluator.FromNames(categories.Categories.Select(c => c.Name).ToArray()) : null;
        var mapper = new DetectionMapper(data, EvalTransform(model.Transform.Options), new DetectionMapperOptions(LoadMasks: false, DropCrowd: false));
        var loader = DataLoaders.Detection(mapper, new LoaderOptions { BatchSize = batchSize, Workers = workers });
        bool wasTraining = model.training;
        model.eval();
        var clock = Stopwatch.StartNew();
        double modelSeconds = 0;
        int images = 0;
        try
        {
            foreach (var batch in loader.Epoch(0, cancellationToken))
            {
                using (batch)
                using (var scope = NewDisposeScope())
                {
                    var sizes = batch.ImageSizes.Select(s => new ImageSize(s.Height, s.Width)).ToArray();
                    var originals = batch.Records.Select(r => new ImageSize(r.Height, r.Width)).ToArray();
                    var t0 = Stopwatch.GetTimestamp();
                    var input = device is null ? batch.Images : batch.Images.to(device);
                    var detections = Predict(model, new ImageList(input, sizes), originals);
                    var outputs = detections.Select(d => BoxDetections.FromTensors(d.Boxes, d.Scores, d.Labels)).ToArray();
                    modelSeconds += Stopwatch.GetElapsedTime(t0).TotalSeconds;
                    var truths = batch.Records.Select(TruthOf).ToArray();
                    coco.Process(truths, outputs);
                    vocEval?.Process(truths, outputs);
                    images += truths.Length;
                }
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        if (images == 0) throw new InvalidOperationException($"No image of {data.Name} could be evaluated (all were skipped as bad input).");
        var cocoMetrics = coco.Evaluate();
        var vocMetrics = vocEval?.Evaluate();
        return new DetectionEvalReport(cocoMetrics, coco.LastResult!, vocMetrics, vocEval?.FormatTable(), images, clock.Elapsed.TotalSeconds, modelSeconds);
    }

    /// <summary>The ground truth of a record in its original pixels (crowd flags, COCO areas and VOC difficult flags kept).</summary>
    public static DetectionTruth TruthOf(ImageRecord record)
    {
        int n = record.Objects.Count;
        var boxes = new float[4 * n];
        var labels = new long[n];
        var crowd = new bool[n];
        var areas = new float[n];
        var difficult = new bool[n];
        for (int i = 0; i < n; i++)
        {
            var o = record.Objects[i];
            boxes[4 * i] = (float)o.Box.X1;
            boxes[4 * i + 1] = (float)o.Box.Y1;
            boxes[4 * i + 2] = (float)o.Box.X2;
            boxes[4 * i + 3] = (float)o.Box.Y2;
            labels[i] = o.Label;
            crowd[i] = o.IsCrowd;
            areas[i] = (float)o.Area;
            difficult[i] = o.Difficult;
        }
        return new DetectionTruth(record.Id, boxes, labels, crowd, areas, difficult);
    }
}
