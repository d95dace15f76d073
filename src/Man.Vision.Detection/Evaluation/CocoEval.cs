using System.Diagnostics;
using Man.Vision.Data.Masks;

namespace Man.Vision.Detection.Evaluation;

/// <summary>
/// COCO evaluation that reproduces pycocotools' <c>COCOeval</c> (<c>iouType='bbox'</c>, and <c>'segm'</c> with
/// <see cref="CocoEvalParameters.IouType"/>): per image and category
/// matching (<c>evaluateImg</c>), accumulation of precision and recall (<c>accumulate</c>) and the twelve summary
/// numbers (<c>summarize</c>), with the same tie-breaking, thresholds and floating-point formulas.
/// </summary>
/// <remarks>
/// The rules, as pycocotools applies them:
/// <list type="bullet">
/// <item>IoU of <c>[x, y, w, h]</c> boxes without the +1 of VOC (or of run-length masks for <c>segm</c>); for a crowd
/// object the union is the detection's area.</item>
/// <item>Detections of an image and category are sorted by score (stable, ties keep input order) and cut to the
/// largest max-detections limit before matching; smaller limits truncate the matched list.</item>
/// <item>Crowd objects and objects whose <c>area</c> lies outside the range are ignored and sorted last; a detection
/// takes the best IoU ≥ threshold, prefers regular objects, and crowd objects may absorb many detections.
/// Detections matched to ignored objects, and unmatched detections whose <c>w·h</c> is outside the range, count
/// neither as true nor as false positives.</item>
/// <item>Per category, area range and limit, detections of all images are merged (images in ascending id order) and
/// sorted by score (stable); precision is made monotone from the right and read at each recall threshold
/// (<c>np.searchsorted(..., side='left')</c>), zero beyond the reached recall.</item>
/// <item>Categories without ground truth in a setting stay at −1 and are left out of the means; a summary number is −1
/// when nothing is left.</item>
/// </list>
/// </remarks>
public static class CocoEval
{
    /// <summary>Evaluates <paramref name="detections"/> against <paramref name="groundTruth"/>.</summary>
    /// <param name="groundTruth">Images, categories and annotations.</param>
    /// <param name="detections">Detections in any order; their image and category ids must exist in the ground truth.
    /// Detections of images outside <see cref="CocoEvalParameters.ImageIds"/> are not evaluated.</param>
    /// <param name="parameters">Evaluation parameters; null for pycocotools' defaults.</param>
    /// <exception cref="InvalidDataException">A detection names an unknown image or category, or has a non-finite or negative-sized box or a non-finite score.</exception>
    public static CocoEvalResult Evaluate(CocoGroundTruth groundTruth, IReadOnlyList<CocoDetection> detections, CocoEvalParameters? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(groundTruth);
        ArgumentNullException.ThrowIfNull(detections);
        var p = parameters ?? CocoEvalParameters.Default;
        p.Validate();
        CheckDetections(groundTruth, detections);
        var watch = Stopwatch.StartNew();
        var run = new Run(groundTruth, detections, p);
        run.EvaluateImages();
        double evaluateSeconds = watch.Elapsed.TotalSeconds;
        watch.Restart();
        run.Accumulate();
        double accumulateSeconds = watch.Elapsed.TotalSeconds;
        return new CocoEvalResult(p, run.IouThresholds, run.MaxDetections, run.ImageIds, run.CategoryIds,
            run.CategoryIds.Select(id => groundTruth.GetCategory(id).Name).ToArray(),
            run.Precision, run.Recall, evaluateSeconds, accumulateSeconds);
    }

    private static void CheckDetections(CocoGroundTruth gt, IReadOnlyList<CocoDetection> detections)
    {
        for (int i = 0; i < detections.Count; i++)
        {
            var d = detections[i] ?? throw new InvalidDataException($"Detection #{i} is null.");
            if (!gt.HasImage(d.ImageId))
                throw new InvalidDataException($"Detection #{i}: image_id {d.ImageId} is not an image of the ground truth ({gt.Source}).");
            if (!gt.HasCategory(d.CategoryId))
                throw new InvalidDataException($"Detection #{i}: category_id {d.CategoryId} is not a category of the ground truth ({gt.Source}).");
            if (!double.IsFinite(d.X) || !double.IsFinite(d.Y) || !double.IsFinite(d.Width) || !double.IsFinite(d.Height) || d.Width < 0 || d.Height < 0)
                throw new InvalidDataException($"Detection #{i} (image {d.ImageId}): invalid bbox [{d.X}, {d.Y}, {d.Width}, {d.Height}] (finite [x, y, w, h] with w, h >= 0 expected).");
            if (!double.IsFinite(d.Score))
                throw new InvalidDataException($"Detection #{i} (image {d.ImageId}): the score {d.Score} is not finite.");
            if (!double.IsFinite(d.Area) || d.Area < 0)
                throw new InvalidDataException($"Detection #{i} (image {d.ImageId}): the area {d.Area} is invalid.");
        }
    }

    /// <summary>
    /// Box IoU as pycocotools' <c>bbIou</c>: <c>[x, y, w, h]</c> boxes, no +1, union = detection area for a crowd object.
    /// </summary>
    public static double BoxIou(double dx, double dy, double dw, double dh, double gx, double gy, double gw, double gh, bool crowd) =>
        Rle.BoxIou(dx, dy, dw, dh, gx, gy, gw, gh, crowd);

    /// <summary>One image and category with ground truth or detections: pycocotools' non-None <c>evalImgs</c> entries for every area range.</summary>
    private sealed class Cell(int category, int image)
    {
        public readonly int Category = category;
        public readonly int Image = image;
        public readonly List<int> Gts = [];
        public readonly List<int> Dts = [];

        /// <summary>Scores of the kept detections, highest first.</summary>
        public double[] Scores = [];

        /// <summary>Per area range, [T × D]: the detection matched an object whose id is non-zero (pycocotools tests <c>dtm</c> for truth).</summary>
        public bool[][] Matched = [];

        /// <summary>Per area range, [T × D]: the detection is ignored.</summary>
        public bool[][] Ignored = [];

        /// <summary>Per area range: the number of objects not ignored.</summary>
        public int[] Positives = [];
    }

    private sealed class Run
    {
        private readonly CocoGroundTruth _gt;
        private readonly IReadOnlyList<CocoDetection> _dts;
        private readonly CocoEvalParameters _p;
        private readonly double[] _recThrs;
        private readonly CocoAreaRange[] _areas;
        private readonly List<Cell>[] _cellsByCategory;
        private Rle?[]? _truthMasks;
        private Rle?[]? _detectionMasks;

        public readonly double[] IouThresholds;
        public readonly int[] MaxDetections;
        public readonly long[] ImageIds;
        public readonly long[] CategoryIds;
        public double[,,,,] Precision = new double[0, 0, 0, 0, 0];
        public double[,,,] Recall = new double[0, 0, 0, 0];

        public Run(CocoGroundTruth gt, IReadOnlyList<CocoDetection> dts, CocoEvalParameters p)
        {
            _gt = gt;
            _dts = dts;
            _p = p;
            IouThresholds = [.. p.IouThresholds];
            _recThrs = [.. p.RecallThresholds];
            MaxDetections = [.. p.MaxDetections.Order()];
            _areas = [.. p.AreaRanges];
            ImageIds = [.. (p.ImageIds ?? gt.Images.Select(i => i.Id)).Distinct().Order()];
            foreach (long id in ImageIds)
                if (!gt.HasImage(id))
                    throw new ArgumentException($"CocoEvalParameters.ImageIds names image {id}, which is not in the ground truth ({gt.Source}).");
            CategoryIds = [.. (p.CategoryIds ?? gt.Categories.Select(c => c.Id)).Distinct().Order()];
            foreach (long id in CategoryIds)
                if (!gt.HasCategory(id))
                    throw new ArgumentException($"CocoEvalParameters.CategoryIds names category {id}, which is not in the ground truth ({gt.Source}).");
            int k = p.UseCategories ? CategoryIds.Length : 1;
            _cellsByCategory = new List<Cell>[k];
            for (int i = 0; i < k; i++) _cellsByCategory[i] = [];
        }

        private int K => _cellsByCategory.Length;

        /// <summary>Groups objects and detections by (category, image) and runs pycocotools' evaluateImg on each group.</summary>
        public void EvaluateImages()
        {
            var imageIndex = new Dictionary<long, int>(ImageIds.Length);
            for (int i = 0; i < ImageIds.Length; i++) imageIndex[ImageIds[i]] = i;
            var categoryIndex = new Dictionary<long, int>(CategoryIds.Length);
            for (int i = 0; i < CategoryIds.Length; i++) categoryIndex[CategoryIds[i]] = i;

            var cells = new Dictionary<long, Cell>();
            Cell CellOf(int category, int image)
            {
                long key = (long)category * ImageIds.Length + image;
                if (!cells.TryGetValue(key, out var cell))
                    cells[key] = cell = new Cell(category, image);
                return cell;
            }

            var gts = _gt.Annotations;
            for (int g = 0; g < gts.Count; g++)
                if (imageIndex.TryGetValue(gts[g].ImageId, out int i) && categoryIndex.TryGetValue(gts[g].CategoryId, out int c))
                    CellOf(_p.UseCategories ? c : 0, i).Gts.Add(g);
            for (int d = 0; d < _dts.Count; d++)
                if (imageIndex.TryGetValue(_dts[d].ImageId, out int i) && categoryIndex.TryGetValue(_dts[d].CategoryId, out int c))
                    CellOf(_p.UseCategories ? c : 0, i).Dts.Add(d);

            if (!_p.UseCategories)
            {
                // pycocotools concatenates the per-category lists in category order.
                foreach (var cell in cells.Values)
                {
                    StableSortBy(cell.Gts, g => categoryIndex[gts[g].CategoryId]);
                    StableSortBy(cell.Dts, d => categoryIndex[_dts[d].CategoryId]);
                }
            }

            foreach (var cell in cells.Values.OrderBy(c => c.Category).ThenBy(c => c.Image))
            {
                EvaluateCell(cell);
                _cellsByCategory[cell.Category].Add(cell);
            }
        }

        private static void StableSortBy(List<int> items, Func<int, int> key)
        {
            var sorted = items.Select((item, position) => (item, position)).OrderBy(x => key(x.item)).ThenBy(x => x.position).Select(x => x.item).ToList();
            items.Clear();
            items.AddRange(sorted);
        }

        private void EvaluateCell(Cell cell)
        {
            var gtAll = _gt.Annotations;
            int T = IouThresholds.Length, A = _areas.Length;
            int maxDet = MaxDetections[^1];

            // Detections by score, highest first, stable; cut to the largest limit.
            int[] dts = [.. cell.Dts];
            SortByScoreDescending(dts, d => _dts[d].Score);
            if (dts.Length > maxDet) dts = dts[..maxDet];
            int D = dts.Length, G = cell.Gts.Count;
            int[] gts = [.. cell.Gts];

            cell.Scores = new double[D];
            for (int d = 0; d < D; d++) cell.Scores[d] = _dts[dts[d]].Score;

            // IoU [D × G], objects in their original order (pycocotools computes it once per image and category).
            double[] iou = new double[D * G];
            bool[] crowd = new bool[G];
            for (int g = 0; g < G; g++) crowd[g] = gtAll[gts[g]].IsCrowd;
            if (_p.IouType == CocoIouType.Segm)
            {
                for (int d = 0; d < D; d++)
                {
                    var dm = DetectionMask(dts[d]);
                    for (int g = 0; g < G; g++)
                        iou[d * G + g] = Rle.Iou(dm, TruthMask(gts[g]), crowd[g]);
                }
            }
            else
            {
                for (int d = 0; d < D; d++)
                {
                    var det = _dts[dts[d]];
                    for (int g = 0; g < G; g++)
                    {
                        var o = gtAll[gts[g]];
                        iou[d * G + g] = BoxIou(det.X, det.Y, det.Width, det.Height, o.X, o.Y, o.Width, o.Height, crowd[g]);
                    }
                }
            }

            cell.Matched = new bool[A][];
            cell.Ignored = new bool[A][];
            cell.Positives = new int[A];
            int[] order = new int[G];
            bool[] gtIgnore = new bool[G];
            bool[] gtTaken = new bool[G];
            for (int a = 0; a < A; a++)
            {
                var range = _areas[a];
                // Objects ignored (crowd or outside the range) go last, stable.
                int n = 0;
                for (int g = 0; g < G; g++)
                    if (!crowd[g] && !range.Excludes(gtAll[gts[g]].Area)) order[n++] = g;
                int positives = n;
                for (int g = 0; g < G; g++)
                    if (crowd[g] || range.Excludes(gtAll[gts[g]].Area)) order[n++] = g;
                for (int j = 0; j < G; j++) gtIgnore[j] = j >= positives;

                var matched = new bool[T * D];
                var ignored = new bool[T * D];
                if (D > 0 && G > 0)
                {
                    for (int t = 0; t < T; t++)
                    {
                        Array.Clear(gtTaken);
                        for (int d = 0; d < D; d++)
                        {
                            double best = Math.Min(IouThresholds[t], 1 - 1e-10);
                            int m = -1;
                            for (int j = 0; j < G; j++)
                            {
                                int g = order[j];
                                if (gtTaken[j] && !crowd[g]) continue;            // a regular object matches once
                                if (m > -1 && !gtIgnore[m] && gtIgnore[j]) break;  // matched a regular object: ignored ones cannot win
                                double v = iou[d * G + g];
                                if (v < best) continue;
                                best = v;
                                m = j;
                            }
                            if (m == -1) continue;
                            ignored[t * D + d] = gtIgnore[m];
                            matched[t * D + d] = gtAll[gts[order[m]]].Id != 0;
                            gtTaken[m] = true;
                        }
                    }
                }
                // Unmatched detections outside the area range are ignored.
                for (int d = 0; d < D; d++)
                {
                    if (!range.Excludes(_dts[dts[d]].Area)) continue;
                    for (int t = 0; t < T; t++)
                        if (!matched[t * D + d]) ignored[t * D + d] = true;
                }
                cell.Matched[a] = matched;
                cell.Ignored[a] = ignored;
                cell.Positives[a] = positives;
            }
        }

        /// <summary>The mask of ground-truth annotation <paramref name="index"/> (pycocotools' annToRLE), computed once.</summary>
        private Rle TruthMask(int index)
        {
            _truthMasks ??= new Rle?[_gt.Annotations.Count];
            if (_truthMasks[index] is { } cached) return cached;
            var a = _gt.Annotations[index];
            if (a.Segmentation is null)
                throw new InvalidDataException($"{_gt.Source}: annotations[{index}] (id {a.Id}) has no 'segmentation'; mask evaluation needs one for every object.");
            var image = _gt.GetImage(a.ImageId);
            if (a.Segmentation.Mask is null && (image.Height <= 0 || image.Width <= 0))
                throw new InvalidDataException($"{_gt.Source}: image {a.ImageId} has no width/height, needed to rasterise the polygons of annotation {a.Id}.");
            try
            {
                return (_truthMasks[index] = a.Segmentation.ToRle(image.Height, image.Width))!;
            }
            catch (InvalidDataException ex)
            {
                throw new InvalidDataException($"{_gt.Source}: annotations[{index}] (id {a.Id}): {ex.Message}", ex);
            }
        }

        /// <summary>The mask of detection <paramref name="index"/>; a box result without a mask is its box as a polygon (pycocotools' loadRes).</summary>
        private Rle DetectionMask(int index)
        {
            _detectionMasks ??= new Rle?[_dts.Count];
            if (_detectionMasks[index] is { } cached) return cached;
            var d = _dts[index];
            if (d.Mask is not null) return _detectionMasks[index] = d.Mask;
            var image = _gt.GetImage(d.ImageId);
            if (image.Height <= 0 || image.Width <= 0)
                throw new InvalidDataException($"Detection #{index} has no mask and image {d.ImageId} has no width/height to rasterise its box.");
            return (_detectionMasks[index] = PolygonRasterizer.FromBbox(d.X, d.Y, d.Width, d.Height, image.Height, image.Width))!;
        }

        /// <summary>Sorts indices by score, highest first; equal scores keep their order (numpy's mergesort of −score).</summary>
        private static void SortByScoreDescending(int[] items, Func<int, double> score)
        {
            if (items.Length < 2) return;
            var keys = new double[items.Length];
            var positions = new int[items.Length];
            for (int i = 0; i < items.Length; i++) { keys[i] = score(items[i]); positions[i] = i; }
            Array.Sort(positions, (x, y) =>
            {
                int c = keys[y].CompareTo(keys[x]);
                return c != 0 ? c : x.CompareTo(y);
            });
            var copy = (int[])items.Clone();
            for (int i = 0; i < items.Length; i++) items[i] = copy[positions[i]];
        }

        /// <summary>pycocotools' accumulate: precision [T, R, K, A, M] and recall [T, K, A, M], −1 where a setting has no objects.</summary>
        public void Accumulate()
        {
            int T = IouThresholds.Length, R = _recThrs.Length, A = _areas.Length, M = MaxDetections.Length;
            Precision = new double[T, R, K, A, M];
            Recall = new double[T, K, A, M];
            Fill(Precision, -1);
            Fill(Recall, -1);
            double eps = Math.BitIncrement(1.0) - 1.0; // np.spacing(1)

            for (int k = 0; k < K; k++)
            {
                var cells = _cellsByCategory[k];
                if (cells.Count == 0) continue;
                for (int m = 0; m < M; m++)
                {
                    int maxDet = MaxDetections[m];
                    // Concatenate the first maxDet detections of each image (images in id order), then sort stably by score.
                    int nd = 0;
                    foreach (var c in cells) nd += Math.Min(c.Scores.Length, maxDet);
                    var cellOf = new int[nd];
                    var detOf = new int[nd];
                    var scores = new double[nd];
                    int n = 0;
                    for (int ci = 0; ci < cells.Count; ci++)
                    {
                        int take = Math.Min(cells[ci].Scores.Length, maxDet);
                        for (int d = 0; d < take; d++) { cellOf[n] = ci; detOf[n] = d; scores[n] = cells[ci].Scores[d]; n++; }
                    }
                    var order = new int[nd];
                    for (int i = 0; i < nd; i++) order[i] = i;
                    Array.Sort(order, (x, y) =>
                    {
                        int c = scores[y].CompareTo(scores[x]);
                        return c != 0 ? c : x.CompareTo(y);
                    });

                    var rc = new double[nd];
                    var pr = new double[nd];
                    for (int a = 0; a < A; a++)
                    {
                        int npig = 0;
                        foreach (var c in cells) npig += c.Positives[a];
                        if (npig == 0) continue;
                        for (int t = 0; t < T; t++)
                        {
                            double tp = 0, fp = 0;
                            for (int j = 0; j < nd; j++)
                            {
                                var cell = cells[cellOf[order[j]]];
                                int D = cell.Scores.Length;
                                int at = t * D + detOf[order[j]];
                                if (!cell.Ignored[a][at])
                                {
                                    if (cell.Matched[a][at]) tp++;
                                    else fp++;
                                }
                                rc[j] = tp / npig;
                                pr[j] = tp / (fp + tp + eps);
                            }
                            Recall[t, k, a, m] = nd > 0 ? rc[nd - 1] : 0;
                            for (int i = nd - 1; i > 0; i--)
                                if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
                            int lo = 0;
                            for (int r = 0; r < R; r++)
                            {
                                // searchsorted(rc, recThr, side='left'): the first index with rc >= recThr.
                                int hi = nd;
                                double thr = _recThrs[r];
                                while (lo < hi)
                                {
                                    int mid = (lo + hi) >>> 1;
                                    if (rc[mid] < thr) lo = mid + 1; else hi = mid;
                                }
                                Precision[t, r, k, a, m] = lo < nd ? pr[lo] : 0;
                            }
                        }
                    }
                }
            }
        }

        private static void Fill(Array array, double value)
        {
            var span = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(
                ref System.Runtime.CompilerServices.Unsafe.As<byte, double>(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(array)),
                array.Length);
            span.Fill(value);
        }
    }
}
