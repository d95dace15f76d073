using System.Globalization;
using Man.Vision.Data.Evaluation;
using Man.Vision.Data.Masks;

namespace Man.Vision.Detection.Evaluation;

/// <summary>
/// COCO box evaluation fed by an inference runner (<see cref="IEvaluator{TInput, TOutput}"/>): collects the detections
/// of each processed image and, at <see cref="Evaluate"/>, runs <see cref="CocoEval"/> on the processed images only
/// (as torchvision's <c>CocoEvaluator</c> sets <c>params.imgIds</c>).
/// </summary>
/// <remarks>
/// The ground truth is either a COCO file (<c>groundTruth</c> given; the inputs then only supply image ids) or built
/// from the processed <see cref="DetectionTruth"/>s like torchvision's <c>convert_to_coco_api</c>: boxes become
/// <c>[x, y, w, h]</c> in float32, the area is the input's <see cref="DetectionTruth.Areas"/> or the box area, crowd
/// flags are kept, and the categories are the mapped labels seen in the ground truth (and the values of
/// <c>labelToCategoryId</c>); detections of other categories are not evaluated, as pycocotools drops them.
/// Detection boxes are converted xyxy → xywh in float32 and widened to double, as torchvision does before pycocotools.
/// With <see cref="CocoIouType.Segm"/> parameters, masks are compared (<see cref="BoxDetections.Masks"/>, and
/// <see cref="DetectionTruth.Masks"/> or the file's segmentations) and a detection's area is its mask area.
/// </remarks>
public sealed class CocoEvaluator : IEvaluator<DetectionTruth, BoxDetections>
{
    private readonly CocoGroundTruth? _fileTruth;
    private readonly IReadOnlyDictionary<long, long>? _labelToCategory;
    private readonly IReadOnlyDictionary<long, string>? _categoryNames;
    private readonly CocoEvalParameters _parameters;
    private readonly List<DetectionTruth> _truths = [];
    private readonly HashSet<long> _imageIds = [];
    private readonly List<(long ImageId, BoxDetections Detections)> _detections = [];

    /// <summary>Creates the evaluator.</summary>
    /// <param name="groundTruth">The COCO ground truth, or null to build it from the processed inputs.</param>
    /// <param name="labelToCategoryId">Model label → COCO category id (e.g. contiguous 1..80 → COCO's 1..90); null when labels already are category ids.</param>
    /// <param name="parameters">Evaluation parameters (their image ids are replaced by the processed ones); null for pycocotools' defaults.</param>
    /// <param name="categoryNames">Category id → name for ground truth built from inputs (names default to the id).</param>
    public CocoEvaluator(CocoGroundTruth? groundTruth = null, IReadOnlyDictionary<long, long>? labelToCategoryId = null,
        CocoEvalParameters? parameters = null, IReadOnlyDictionary<long, string>? categoryNames = null)
    {
        _fileTruth = groundTruth;
        _labelToCategory = labelToCategoryId;
        _categoryNames = categoryNames;
        _parameters = parameters ?? CocoEvalParameters.Default;
        _parameters.Validate();
        if (groundTruth is not null && labelToCategoryId is not null)
            foreach (var (label, category) in labelToCategoryId)
                if (!groundTruth.HasCategory(category))
                    throw new ArgumentException($"labelToCategoryId maps label {label} to category {category}, which is not in {groundTruth.Source}.", nameof(labelToCategoryId));
    }

    /// <summary>The full result of the last <see cref="Evaluate"/> (arrays, summary lines, per-category AP), or null.</summary>
    public CocoEvalResult? LastResult { get; private set; }

    /// <inheritdoc/>
    public void Reset()
    {
        _truths.Clear();
        _imageIds.Clear();
        _detections.Clear();
        LastResult = null;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">An image is processed twice, is not in the ground-truth file, or has a label without a category.</exception>
    public void Process(IReadOnlyList<DetectionTruth> inputs, IReadOnlyList<BoxDetections> outputs)
    {
        EvaluatorGuards.CheckBatch(inputs, outputs);
        for (int i = 0; i < inputs.Count; i++)
        {
            var truth = inputs[i] ?? throw new ArgumentException($"Input {i} of the batch is null.", nameof(inputs));
            var dets = outputs[i] ?? throw new ArgumentException($"Output {i} of the batch (image {truth.ImageId}) is null.", nameof(outputs));
            if (_fileTruth is not null && !_fileTruth.HasImage(truth.ImageId))
                throw new ArgumentException($"Image {truth.ImageId} is not an image of the ground truth ({_fileTruth.Source}).", nameof(inputs));
            if (!_imageIds.Add(truth.ImageId))
                throw new ArgumentException($"Image {truth.ImageId} was processed twice since the last Reset.", nameof(inputs));
            foreach (long label in dets.Labels)
            {
                long category = CategoryOf(label);
                if (_fileTruth is not null && !_fileTruth.HasCategory(category))
                    throw new ArgumentException(
                        $"Image {truth.ImageId}: detected label {label} (category {category}) is not a category of the ground truth ({_fileTruth.Source}).", nameof(outputs));
            }
            if (_fileTruth is null)
            {
                foreach (long label in truth.Labels) CategoryOf(label);
                _truths.Add(truth);
            }
            _detections.Add((truth.ImageId, dets));
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Keys: <c>AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl</c> (pycocotools' stats, in [0, 1],
    /// −1 where undefined) and <c>AP-&lt;category name&gt;</c> for every category with ground truth.
    /// </remarks>
    public IReadOnlyDictionary<string, double> Evaluate()
    {
        var gt = _fileTruth ?? BuildGroundTruth();
        var detections = new List<CocoDetection>();
        foreach (var (imageId, dets) in _detections)
        {
            for (int j = 0; j < dets.Count; j++)
            {
                long category = CategoryOf(dets.Labels[j]);
                if (!gt.HasCategory(category)) continue; // only possible for ground truth built from inputs
                var (x, y, w, h) = ToXywh(dets.Boxes, j);
                var detection = new CocoDetection(imageId, category, x, y, w, h, dets.Scores[j]);
                if (_parameters.IouType == CocoIouType.Segm)
                {
                    var mask = dets.Masks?[j] ?? throw new InvalidOperationException(
                        $"Mask evaluation needs masks, but the detections of image {imageId} have none.");
                    // As torchvision and detectron2 write mask results (no bbox): the mask area decides the area range.
                    detection = detection with { Mask = mask, Area = mask.Area };
                }
                detections.Add(detection);
            }
        }
        var parameters = _parameters with { ImageIds = [.. _imageIds] };
        var result = CocoEval.Evaluate(gt, detections, parameters);
        LastResult = result;
        var metrics = new Dictionary<string, double>(result.ToMetrics(), StringComparer.Ordinal);
        for (int k = 0; k < result.CategoryIds.Count; k++)
        {
            double ap = result.PerCategoryAp[result.CategoryIds[k]];
            if (double.IsNaN(ap)) continue;
            string key = $"AP-{result.CategoryNames[k]}";
            if (metrics.ContainsKey(key)) key = $"AP-{result.CategoryNames[k]}#{result.CategoryIds[k].ToString(CultureInfo.InvariantCulture)}";
            metrics[key] = ap;
        }
        return metrics;
    }

    private long CategoryOf(long label)
    {
        if (_labelToCategory is null) return label;
        return _labelToCategory.TryGetValue(label, out long c) ? c
            : throw new ArgumentException($"Label {label} has no COCO category in labelToCategoryId.");
    }

    /// <summary>xyxy → xywh in float32 (torchvision's <c>convert_to_xywh</c>), then widened to double.</summary>
    private static (double X, double Y, double W, double H) ToXywh(float[] boxes, int i)
    {
        float x1 = boxes[4 * i], y1 = boxes[4 * i + 1], x2 = boxes[4 * i + 2], y2 = boxes[4 * i + 3];
        return (x1, y1, x2 - x1, y2 - y1);
    }

    private CocoGroundTruth BuildGroundTruth()
    {
        var images = _truths.Select(t => t.Masks is { Length: > 0 } m ? new CocoImage(t.ImageId, m[0].Width, m[0].Height) : new CocoImage(t.ImageId)).ToList();
        var categoryIds = new SortedSet<long>();
        var annotations = new List<CocoAnnotation>();
        long nextId = 1;
        foreach (var t in _truths)
        {
            for (int j = 0; j < t.Count; j++)
            {
                long category = CategoryOf(t.Labels[j]);
                categoryIds.Add(category);
                var (x, y, w, h) = ToXywh(t.Boxes, j);
                var mask = t.Masks?[j];
                if (_parameters.IouType == CocoIouType.Segm && mask is null)
                    throw new InvalidOperationException($"Mask evaluation needs masks, but the ground truth of image {t.ImageId} has none.");
                double area = t.Areas is not null ? t.Areas[j] : mask is not null ? mask.Area : (float)w * (float)h;
                annotations.Add(new CocoAnnotation(nextId++, t.ImageId, category, x, y, w, h, area, t.IsCrowd?[j] ?? false)
                {
                    Segmentation = mask is null ? null : CocoSegmentation.FromRle(mask),
                });
            }
        }
        if (_labelToCategory is not null)
            foreach (long c in _labelToCategory.Values) categoryIds.Add(c);
        var categories = categoryIds.Select(id => new CocoCategory(id,
            _categoryNames is not null && _categoryNames.TryGetValue(id, out var name) ? name : id.ToString(CultureInfo.InvariantCulture)));
        return CocoGroundTruth.Create(images, categories, annotations, "ground truth of the processed inputs");
    }
}
