using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Ops;

/// <summary>
/// Encodes boxes as regression targets relative to reference boxes and decodes them back (R-CNN parameterisation),
/// as torchvision's <c>BoxCoder</c>: dx = wx·(gx − px)/pw, dy = wy·(gy − py)/ph, dw = ww·log(gw/pw), dh = wh·log(gh/ph)
/// on centres and sizes; decoding clamps dw, dh at <see cref="BboxXformClip"/> before the exponential.
/// </summary>
public sealed class BoxCoder
{
    /// <summary>torchvision's default clamp of dw, dh in decoding: log(1000/16).</summary>
    public static readonly double DefaultBboxXformClip = Math.Log(1000.0 / 16);

    /// <summary>Creates a coder.</summary>
    /// <param name="weights">(wx, wy, ww, wh): (10, 10, 5, 5) for the RoI heads, (1, 1, 1, 1) for the RPN.</param>
    /// <param name="bboxXformClip">Upper clamp of dw, dh when decoding (default log(1000/16)).</param>
    public BoxCoder((double X, double Y, double W, double H) weights, double? bboxXformClip = null)
    {
        if (!(weights.X > 0 && weights.Y > 0 && weights.W > 0 && weights.H > 0))
            throw new ArgumentOutOfRangeException(nameof(weights), weights, "Box coder weights must be positive.");
        Weights = weights;
        BboxXformClip = bboxXformClip ?? DefaultBboxXformClip;
    }

    /// <summary>(wx, wy, ww, wh).</summary>
    public (double X, double Y, double W, double H) Weights { get; }

    /// <summary>Upper clamp of dw, dh when decoding.</summary>
    public double BboxXformClip { get; }

    /// <summary>Encodes per image: for each pair, targets <c>[K_b, 4]</c> of <paramref name="boxes"/> relative to <paramref name="references"/>.</summary>
    public IReadOnlyList<Tensor> Encode(IReadOnlyList<Tensor> boxes, IReadOnlyList<Tensor> references)
    {
        if (boxes.Count != references.Count)
            throw new ArgumentException($"{boxes.Count} box lists but {references.Count} reference lists.", nameof(references));
        using var scope = NewDisposeScope();
        long[] counts = references.Select(r => r.shape[0]).ToArray();
        Tensor all = EncodeSingle(torch.cat(boxes.ToList(), 0), torch.cat(references.ToList(), 0));
        var parts = all.split(counts, 0);
        foreach (var p in parts) p.MoveToOuterDisposeScope();
        return parts;
    }

    /// <summary>Regression targets <c>[N, 4]</c> of boxes <c>[N, 4]</c> (xyxy) relative to reference boxes <c>[N, 4]</c> (xyxy).</summary>
    public Tensor EncodeSingle(Tensor boxes, Tensor references)
    {
        BoxOps.CheckBoxes(boxes, nameof(boxes));
        BoxOps.CheckBoxes(references, nameof(references));
        using var scope = NewDisposeScope();
        var dtype = references.dtype;
        var p = references.unbind(1);
        var g = boxes.to(dtype).unbind(1);
        Tensor pw = p[2] - p[0], ph = p[3] - p[1];
        Tensor px = p[0] + 0.5 * pw, py = p[1] + 0.5 * ph;
        Tensor gw = g[2] - g[0], gh = g[3] - g[1];
        Tensor gx = g[0] + 0.5 * gw, gy = g[1] + 0.5 * gh;
        Tensor dx = Weights.X * (gx - px) / pw;
        Tensor dy = Weights.Y * (gy - py) / ph;
        Tensor dw = Weights.W * (gw / pw).log();
        Tensor dh = Weights.H * (gh / ph).log();
        return torch.stack([dx, dy, dw, dh], 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Decodes <paramref name="relCodes"/> <c>[N, 4·K]</c> (K boxes per reference, e.g. one per class) against the
    /// references of every image concatenated (ΣN_b = N): boxes <c>[N, K, 4]</c> xyxy.
    /// </summary>
    public Tensor Decode(Tensor relCodes, IReadOnlyList<Tensor> references)
    {
        using var scope = NewDisposeScope();
        Tensor refs = torch.cat(references.ToList(), 0);
        if (relCodes.shape[0] != refs.shape[0])
            throw new ArgumentException($"{relCodes.shape[0]} codes for {refs.shape[0]} reference boxes.", nameof(relCodes));
        Tensor decoded = DecodeSingle(relCodes, refs);
        // Explicit K: with no references (an image without proposals) -1 would be ambiguous.
        return decoded.reshape(refs.shape[0], relCodes.shape[1] / 4, 4).MoveToOuterDisposeScope();
    }

    /// <summary>Decodes codes <c>[N, 4·K]</c> against references <c>[N, 4]</c> (xyxy): boxes <c>[N, 4·K]</c> xyxy.</summary>
    public Tensor DecodeSingle(Tensor relCodes, Tensor references)
    {
        BoxOps.CheckBoxes(references, nameof(references));
        if (relCodes.dim() != 2 || relCodes.shape[1] % 4 != 0)
            throw new ArgumentException($"Codes must be [N, 4·K], got [{string.Join(", ", relCodes.shape)}].", nameof(relCodes));
        using var scope = NewDisposeScope();
        Tensor r = references.to(relCodes.dtype);
        var c = r.unbind(1);
        Tensor widths = c[2] - c[0], heights = c[3] - c[1];
        Tensor ctrX = c[0] + 0.5 * widths, ctrY = c[1] + 0.5 * heights;
        Tensor dx = relCodes[.., TensorIndex.Slice(0, null, 4)] / Weights.X;
        Tensor dy = relCodes[.., TensorIndex.Slice(1, null, 4)] / Weights.Y;
        Tensor dw = (relCodes[.., TensorIndex.Slice(2, null, 4)] / Weights.W).clamp_max(BboxXformClip);
        Tensor dh = (relCodes[.., TensorIndex.Slice(3, null, 4)] / Weights.H).clamp_max(BboxXformClip);
        Tensor predCtrX = dx * widths[.., TensorIndex.None] + ctrX[.., TensorIndex.None];
        Tensor predCtrY = dy * heights[.., TensorIndex.None] + ctrY[.., TensorIndex.None];
        Tensor predW = dw.exp() * widths[.., TensorIndex.None];
        Tensor predH = dh.exp() * heights[.., TensorIndex.None];
        Tensor halfW = 0.5 * predW, halfH = 0.5 * predH;
        Tensor boxes = torch.stack([predCtrX - halfW, predCtrY - halfH, predCtrX + halfW, predCtrY + halfH], 2).flatten(1);
        return boxes.MoveToOuterDisposeScope();
    }
}
