using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Ops;

/// <summary>
/// Stateless operations on boxes, numerically equal to <c>torchvision.ops.boxes</c>. Unless said otherwise boxes are
/// <c>[N, 4]</c> float tensors in <see cref="BoxFormat.Xyxy"/> format (pixels, x to the right, y down).
/// </summary>
public static class BoxOps
{
    /// <summary>Converts boxes <c>[..., 4]</c> from one format to another (a no-op copy when they are equal).</summary>
    /// <param name="boxes">Boxes <c>[..., 4]</c> in format <paramref name="from"/>.</param>
    /// <param name="from">The format of <paramref name="boxes"/>.</param>
    /// <param name="to">The wanted format.</param>
    public static Tensor Convert(Tensor boxes, BoxFormat from, BoxFormat to)
    {
        CheckLastDim(boxes, nameof(boxes));
        if (from == to) return boxes.clone();
        using var scope = NewDisposeScope();
        Tensor xyxy = from switch
        {
            BoxFormat.Xyxy => boxes,
            BoxFormat.Xywh => XywhToXyxy(boxes),
            BoxFormat.Cxcywh => CxcywhToXyxy(boxes),
            _ => throw new ArgumentOutOfRangeException(nameof(from), from, "Unknown box format."),
        };
        Tensor result = to switch
        {
            BoxFormat.Xyxy => xyxy,
            BoxFormat.Xywh => XyxyToXywh(xyxy),
            BoxFormat.Cxcywh => XyxyToCxcywh(xyxy),
            _ => throw new ArgumentOutOfRangeException(nameof(to), to, "Unknown box format."),
        };
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Areas <c>[N]</c> of boxes <c>[N, 4]</c> (xyxy): (x2 − x1)·(y2 − y1).</summary>
    public static Tensor Area(Tensor boxes)
    {
        CheckBoxes(boxes, nameof(boxes));
        using var scope = NewDisposeScope();
        var c = boxes.unbind(1);
        return ((c[2] - c[0]) * (c[3] - c[1])).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Pairwise intersection over union <c>[N, M]</c> of <paramref name="boxes1"/> <c>[N, 4]</c> and
    /// <paramref name="boxes2"/> <c>[M, 4]</c> (xyxy), as <c>torchvision.ops.box_iou</c>.
    /// </summary>
    public static Tensor Iou(Tensor boxes1, Tensor boxes2)
    {
        CheckBoxes(boxes1, nameof(boxes1));
        CheckBoxes(boxes2, nameof(boxes2));
        using var scope = NewDisposeScope();
        Tensor area1 = Area(boxes1), area2 = Area(boxes2);
        Tensor lt = torch.max(boxes1[.., TensorIndex.None, ..2], boxes2[.., ..2]);
        Tensor rb = torch.min(boxes1[.., TensorIndex.None, 2..], boxes2[.., 2..]);
        Tensor wh = (rb - lt).clamp_min(0);
        Tensor inter = wh[.., .., 0] * wh[.., .., 1];
        Tensor union = area1[.., TensorIndex.None] + area2 - inter;
        return (inter / union).MoveToOuterDisposeScope();
    }

    /// <summary>Clips boxes <c>[..., 4]</c> (xyxy) to an image of <paramref name="height"/> × <paramref name="width"/> pixels.</summary>
    public static Tensor ClipToImage(Tensor boxes, long height, long width)
    {
        CheckLastDim(boxes, nameof(boxes));
        using var scope = NewDisposeScope();
        Tensor x = boxes[TensorIndex.Ellipsis, TensorIndex.Slice(0, null, 2)].clamp(0, width);
        Tensor y = boxes[TensorIndex.Ellipsis, TensorIndex.Slice(1, null, 2)].clamp(0, height);
        return torch.stack([x, y], boxes.dim()).reshape(boxes.shape).MoveToOuterDisposeScope();
    }

    /// <summary>Indices <c>[K]</c> (int64) of the boxes <c>[N, 4]</c> (xyxy) whose both sides are at least <paramref name="minSize"/>.</summary>
    public static Tensor RemoveSmall(Tensor boxes, double minSize)
    {
        CheckBoxes(boxes, nameof(boxes));
        using var scope = NewDisposeScope();
        var c = boxes.unbind(1);
        Tensor keep = (c[2] - c[0]).ge(minSize).logical_and((c[3] - c[1]).ge(minSize));
        return keep.nonzero().flatten().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Greedy non-maximum suppression, equal to <c>torchvision.ops.nms</c>: visits the boxes by decreasing score
    /// (stable for ties) and drops every later box whose IoU with a kept one is greater than
    /// <paramref name="iouThreshold"/>.
    /// </summary>
    /// <param name="boxes">Boxes <c>[N, 4]</c>, xyxy.</param>
    /// <param name="scores">Scores <c>[N]</c>.</param>
    /// <param name="iouThreshold">Boxes overlapping a kept box with IoU &gt; this are discarded.</param>
    /// <returns>Indices <c>[K]</c> (int64) of the kept boxes, by decreasing score, on the boxes' device.</returns>
    /// <remarks>
    /// The boxes are pulled to managed memory once and the suppression runs as one SIMD pass over the score order
    /// (the algorithm of torchvision's CPU kernel); no per-box tensor call.
    /// </remarks>
    public static Tensor Nms(Tensor boxes, Tensor scores, double iouThreshold) => NmsCore(boxes, scores, null, iouThreshold);

    /// <summary>
    /// Non-maximum suppression done independently per category, equal to <c>torchvision.ops.batched_nms</c>: boxes
    /// with different <paramref name="idxs"/> never suppress each other.
    /// </summary>
    /// <param name="boxes">Boxes <c>[N, 4]</c>, xyxy.</param>
    /// <param name="scores">Scores <c>[N]</c>.</param>
    /// <param name="idxs">Category (or level, or image) of each box <c>[N]</c>, integer.</param>
    /// <param name="iouThreshold">Boxes overlapping a kept box of the same category with IoU &gt; this are discarded.</param>
    /// <returns>Indices <c>[K]</c> (int64) of the kept boxes, by decreasing score.</returns>
    /// <remarks>
    /// Instead of torchvision's coordinate-offset trick (which shifts each category's boxes by
    /// <c>idx·(max + 1)</c> and so rounds coordinates of far categories), the single suppression pass compares
    /// category ids directly; the result equals per-category NMS exactly.
    /// </remarks>
    public static Tensor BatchedNms(Tensor boxes, Tensor scores, Tensor idxs, double iouThreshold)
    {
        if (idxs.dim() != 1 || idxs.shape[0] != boxes.shape[0])
            throw new ArgumentException($"idxs must be [N] with N = {boxes.shape[0]} (the number of boxes), got [{string.Join(", ", idxs.shape)}].", nameof(idxs));
        return NmsCore(boxes, scores, idxs, iouThreshold);
    }

    private static Tensor NmsCore(Tensor boxes, Tensor scores, Tensor? idxs, double iouThreshold)
    {
        CheckBoxes(boxes, nameof(boxes));
        if (scores.dim() != 1 || scores.shape[0] != boxes.shape[0])
            throw new ArgumentException($"scores must be [N] with N = {boxes.shape[0]} (the number of boxes), got [{string.Join(", ", scores.shape)}].", nameof(scores));
        if (double.IsNaN(iouThreshold))
            throw new ArgumentOutOfRangeException(nameof(iouThreshold), "The IoU threshold is NaN.");
        int n = checked((int)boxes.shape[0]);
        if (n == 0) return torch.empty(0, ScalarType.Int64, boxes.device);

        long[] order;
        float[] b;
        int[]? groups = null;
        using (NewDisposeScope())
        {
            order = scores.detach().sort(0, descending: true, stable: true).Indices.cpu().data<long>().ToArray();
            b = boxes.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
            if (idxs is not null) groups = idxs.detach().to(ScalarType.Int32).cpu().data<int>().ToArray();
        }
        int[] keep = SuppressSorted(b, order, groups, iouThreshold, out int kept);
        var result = new long[kept];
        for (int i = 0; i < kept; i++) result[i] = keep[i];
        return torch.tensor(result, ScalarType.Int64).to(boxes.device);
    }

    /// <summary>
    /// The suppression pass over boxes sorted by score: <paramref name="b"/> holds N×4 xyxy values, <paramref name="order"/>
    /// the visiting order. Returns the kept original indices (first <paramref name="kept"/> entries).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static int[] SuppressSorted(float[] b, long[] order, int[]? groups, double iouThreshold, out int kept)
    {
        int n = order.Length;
        int width = Vector<float>.Count;
        int padded = (n + width - 1) / width * width;
        // Structure of arrays in score order, padded with empty boxes (IoU 0, never suppressed in a way that matters).
        var x1 = new float[padded]; var y1 = new float[padded]; var x2 = new float[padded]; var y2 = new float[padded];
        var area = new float[padded];
        var group = new int[padded];
        for (int s = 0; s < n; s++)
        {
            long i = order[s];
            x1[s] = b[4 * i]; y1[s] = b[4 * i + 1]; x2[s] = b[4 * i + 2]; y2[s] = b[4 * i + 3];
            area[s] = (x2[s] - x1[s]) * (y2[s] - y1[s]);
            group[s] = groups is null ? 0 : groups[i];
        }
        for (int s = n; s < padded; s++) group[s] = int.MinValue;

        // ovr > thr (a double) ⟺ ovr ≥ t for the smallest float t above thr.
        float t = (float)iouThreshold;
        if ((double)t <= iouThreshold) t = MathF.BitIncrement(t);
        var vt = new Vector<float>(t);
        var zero = Vector<float>.Zero;

        var suppressed = new int[padded];
        var keep = new int[n];
        kept = 0;
        for (int s = 0; s < n; s++)
        {
            if (suppressed[s] != 0) continue;
            keep[kept++] = (int)order[s];
            float ix1 = x1[s], iy1 = y1[s], ix2 = x2[s], iy2 = y2[s], ia = area[s];
            int g = group[s];
            int j = s + 1;
            // Scalar head up to a vector boundary.
            for (; j < n && (j % width) != 0; j++)
            {
                if (groups is not null && group[j] != g) continue;
                float w = MathF.Max(0f, MathF.Min(ix2, x2[j]) - MathF.Max(ix1, x1[j]));
                float h = MathF.Max(0f, MathF.Min(iy2, y2[j]) - MathF.Max(iy1, y1[j]));
                float inter = w * h;
                float ovr = inter / (ia + area[j] - inter);
                if (ovr >= t) suppressed[j] = 1;
            }
            if (j >= n) continue;
            var vx1 = new Vector<float>(ix1); var vy1 = new Vector<float>(iy1);
            var vx2 = new Vector<float>(ix2); var vy2 = new Vector<float>(iy2);
            var va = new Vector<float>(ia);
            var vg = new Vector<int>(g);
            for (; j < padded; j += width)
            {
                var w = Vector.Max(zero, Vector.Min(vx2, new Vector<float>(x2, j)) - Vector.Max(vx1, new Vector<float>(x1, j)));
                var h = Vector.Max(zero, Vector.Min(vy2, new Vector<float>(y2, j)) - Vector.Max(vy1, new Vector<float>(y1, j)));
                var inter = w * h;
                var ovr = inter / (va + new Vector<float>(area, j) - inter);
                var hit = Vector.GreaterThanOrEqual(ovr, vt);
                if (groups is not null) hit &= Vector.Equals(new Vector<int>(group, j), vg);
                if (hit == Vector<int>.Zero) continue;
                (new Vector<int>(suppressed, j) | (hit & Vector<int>.One)).CopyTo(suppressed, j);
            }
        }
        return keep;
    }

    private static Tensor XywhToXyxy(Tensor b)
    {
        var c = b.unbind(-1);
        return torch.stack([c[0], c[1], c[0] + c[2], c[1] + c[3]], -1);
    }

    private static Tensor XyxyToXywh(Tensor b)
    {
        var c = b.unbind(-1);
        return torch.stack([c[0], c[1], c[2] - c[0], c[3] - c[1]], -1);
    }

    private static Tensor CxcywhToXyxy(Tensor b)
    {
        var c = b.unbind(-1);
        Tensor hw = 0.5 * c[2], hh = 0.5 * c[3];
        return torch.stack([c[0] - hw, c[1] - hh, c[0] + hw, c[1] + hh], -1);
    }

    private static Tensor XyxyToCxcywh(Tensor b)
    {
        var c = b.unbind(-1);
        return torch.stack([(c[0] + c[2]) / 2, (c[1] + c[3]) / 2, c[2] - c[0], c[3] - c[1]], -1);
    }

    internal static void CheckBoxes(Tensor boxes, string name)
    {
        if (boxes.dim() != 2 || boxes.shape[1] != 4)
            throw new ArgumentException($"{name} must be a [N, 4] tensor of boxes, got [{string.Join(", ", boxes.shape)}].", name);
    }

    private static void CheckLastDim(Tensor boxes, string name)
    {
        if (boxes.dim() < 1 || boxes.shape[^1] != 4)
            throw new ArgumentException($"{name} must be a [..., 4] tensor of boxes, got [{string.Join(", ", boxes.shape)}].", name);
    }
}
