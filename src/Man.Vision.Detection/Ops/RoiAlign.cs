using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Ops;

/// <summary>
/// Region of interest align (He et al., Mask R-CNN), numerically equal to <c>torchvision.ops.roi_align</c>, written
/// with tensor operations (index_select + weighted sums), so it runs on any device and is differentiable with respect
/// to the input features.
/// </summary>
/// <remarks>
/// For RoI r with box (x1, y1, x2, y2) in input pixels, the box is scaled by <c>spatialScale</c> (and shifted by −0.5
/// when aligned); each of the pooledH × pooledW bins averages a gridH × gridW grid of bilinear samples, with
/// gridH = samplingRatio, or ceil(roiHeight / pooledH) when samplingRatio ≤ 0 (adaptive, per RoI). Samples more than
/// one pixel outside the map contribute zero; samples in the last pixel band are clamped to the border, as in
/// torchvision's kernel. Without <c>aligned</c> the RoI is at least 1×1.
/// The bilinear weights of a sample are separable (y weight × x weight), so a RoI gathers its
/// pooledH·2gridH rows × pooledW·2gridW columns once and reduces them with one batched matrix product.
/// RoIs are processed in chunks sorted by their grid size, bounded by <see cref="ChunkElements"/>.
/// </remarks>
public static class RoiAlign
{
    /// <summary>Upper bound of gathered values per chunk (elements, not bytes); 16M floats = 64 MB.</summary>
    public const long ChunkElements = 16L << 20;

    /// <summary>RoIAlign of <paramref name="input"/> over <paramref name="rois"/>.</summary>
    /// <param name="input">Features <c>[B, C, H, W]</c> (float32 or float64).</param>
    /// <param name="rois">RoIs <c>[K, 5]</c>: (batch index, x1, y1, x2, y2) in input-image pixels, same dtype as the input.</param>
    /// <param name="pooledHeight">Output height (bins per RoI vertically), ≥ 1.</param>
    /// <param name="pooledWidth">Output width, ≥ 1.</param>
    /// <param name="spatialScale">Scale from image pixels to feature pixels (1/stride), &gt; 0.</param>
    /// <param name="samplingRatio">Samples per bin along each axis; ≤ 0 for adaptive (ceil(roi size / pooled size)).</param>
    /// <param name="aligned">Shift the box by −0.5 feature pixel (pixel-centre model) and allow RoIs under one pixel.</param>
    /// <returns>Pooled features <c>[K, C, pooledHeight, pooledWidth]</c>.</returns>
    public static Tensor Apply(Tensor input, Tensor rois, long pooledHeight, long pooledWidth, double spatialScale,
        int samplingRatio, bool aligned)
    {
        if (input.dim() != 4)
            throw new ArgumentException($"input must be [B, C, H, W], got [{string.Join(", ", input.shape)}].", nameof(input));
        if (rois.dim() != 2 || rois.shape[1] != 5)
            throw new ArgumentException($"rois must be [K, 5] (batch index, x1, y1, x2, y2), got [{string.Join(", ", rois.shape)}].", nameof(rois));
        if (pooledHeight < 1 || pooledWidth < 1)
            throw new ArgumentOutOfRangeException(nameof(pooledHeight), $"The output size must be at least 1×1, got {pooledHeight}×{pooledWidth}.");
        if (!(spatialScale > 0) || double.IsInfinity(spatialScale))
            throw new ArgumentOutOfRangeException(nameof(spatialScale), spatialScale, "The spatial scale must be a positive finite number.");
        if (input.dtype != ScalarType.Float32 && input.dtype != ScalarType.Float64)
            throw new ArgumentException($"input must be float32 or float64, got {input.dtype}.", nameof(input));

        long k = rois.shape[0], c = input.shape[1], height = input.shape[2], width = input.shape[3];
        if (k == 0 || height == 0 || width == 0)
            return torch.zeros([k, c, pooledHeight, pooledWidth], input.dtype, input.device, input.requires_grad);

        using var scope = NewDisposeScope();
        var dtype = input.dtype;
        Tensor r = rois.to(dtype).detach();
        Tensor batch = r[.., 0].to(ScalarType.Int64);
        double offset = aligned ? 0.5 : 0.0;
        Tensor startW = r[.., 1] * spatialScale - offset;
        Tensor startH = r[.., 2] * spatialScale - offset;
        Tensor endW = r[.., 3] * spatialScale - offset;
        Tensor endH = r[.., 4] * spatialScale - offset;
        Tensor roiW = endW - startW, roiH = endH - startH;
        if (!aligned)
        {
            roiW = roiW.clamp_min(1.0);
            roiH = roiH.clamp_min(1.0);
        }
        Tensor binH = roiH / pooledHeight, binW = roiW / pooledWidth;
        Tensor gridH, gridW;
        if (samplingRatio > 0)
        {
            gridH = torch.full([k], samplingRatio, ScalarType.Int64, input.device);
            gridW = gridH;
        }
        else
        {
            gridH = (roiH / pooledHeight).ceil().to(ScalarType.Int64);
            gridW = (roiW / pooledWidth).ceil().to(ScalarType.Int64);
        }
        // Count of samples per bin as the kernel computes it: max(gridH·gridW, 1) with the signed grid sizes.
        Tensor count = (gridH * gridW).clamp_min(1).to(dtype);
        gridH = gridH.clamp_min(0);
        gridW = gridW.clamp_min(0);

        // Features as rows of a [B·H·W, C] table for index_select (one copy per call).
        Tensor table = input.permute(0, 2, 3, 1).reshape(-1, c);

        // Extent of the pixels each RoI touches (rows y0..y1, columns x0..x1), from its valid samples.
        long maxGh = Math.Max(1, gridH.max().item<long>()), maxGw = Math.Max(1, gridW.max().item<long>());
        var (ry, _, vy) = Axis(startH, binH, gridH, pooledHeight, maxGh, height);
        var (rx, _, vx) = Axis(startW, binW, gridW, pooledWidth, maxGw, width);
        long[] y0 = ExtentMin(ry, vy), y1 = ExtentMax(ry, vy), x0 = ExtentMin(rx, vx), x1 = ExtentMax(rx, vx);
        long[] gh = gridH.cpu().data<long>().ToArray();
        long[] gw = gridW.cpu().data<long>().ToArray();

        // Two exact evaluations of the same sums, chosen per RoI by the number of feature rows gathered:
        // "crop" gathers the touched window once and applies the separable weights as two batched matrix products
        // (cheap for RoIs of a few feature pixels, the FPN case); "samples" gathers the 2×2 neighbours of every sample
        // (cheap for large RoIs with a fixed sampling ratio).
        long CropArea(int i) => (y1[i] - y0[i] + 1) * (x1[i] - x0[i] + 1);
        long SampleArea(int i) => pooledHeight * 2 * Math.Max(1, gh[i]) * pooledWidth * 2 * Math.Max(1, gw[i]);
        var all = Enumerable.Range(0, (int)k).ToArray();
        int[] crop = all.Where(i => CropArea(i) <= SampleArea(i)).OrderBy(CropArea).ThenBy(i => i).ToArray();
        int[] samples = all.Where(i => CropArea(i) > SampleArea(i)).OrderBy(i => gh[i] * gw[i]).ThenBy(i => i).ToArray();

        var outputs = new List<Tensor>();
        var orderParts = new List<long>();
        foreach (var chunk in Chunks(crop, i => y1[i] - y0[i] + 1, i => x1[i] - x0[i] + 1, (h, w) => h * w * c))
        {
            orderParts.AddRange(chunk);
            using var idx = torch.tensor(chunk, ScalarType.Int64, input.device);
            long hc = chunk.Max(i => y1[i] - y0[i] + 1), wc = chunk.Max(i => x1[i] - x0[i] + 1);
            long cgh = Math.Max(1, chunk.Max(i => gh[i])), cgw = Math.Max(1, chunk.Max(i => gw[i]));
            using var cy0 = torch.tensor(chunk.Select(i => y0[i]).ToArray(), ScalarType.Int64, input.device);
            using var cx0 = torch.tensor(chunk.Select(i => x0[i]).ToArray(), ScalarType.Int64, input.device);
            outputs.Add(ChunkCrop(table, height, width, batch[idx], startH[idx], startW[idx], binH[idx], binW[idx],
                gridH[idx], gridW[idx], count[idx], pooledHeight, pooledWidth, cgh, cgw, cy0, cx0, hc, wc));
        }
        foreach (var chunk in Chunks(samples, i => Math.Max(1, gh[i]), i => Math.Max(1, gw[i]), (h, w) => pooledHeight * 2 * h * pooledWidth * 2 * w * c))
        {
            orderParts.AddRange(chunk);
            using var idx = torch.tensor(chunk, ScalarType.Int64, input.device);
            long maxH = chunk.Max(i => Math.Max(1, gh[i])), maxW = chunk.Max(i => Math.Max(1, gw[i]));
            outputs.Add(Chunk(table, height, width, batch[idx], startH[idx], startW[idx], binH[idx], binW[idx],
                gridH[idx], gridW[idx], count[idx], pooledHeight, pooledWidth, maxH, maxW));
        }
        Tensor stacked = outputs.Count == 1 ? outputs[0] : torch.cat(outputs, 0);
        // Undo the sort by grid size.
        var inverse = new long[k];
        for (int i = 0; i < orderParts.Count; i++) inverse[orderParts[i]] = i;
        Tensor result = stacked.index_select(0, torch.tensor(inverse, ScalarType.Int64, input.device));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>RoIAlign with boxes given per image (torchvision's list form).</summary>
    /// <param name="input">Features <c>[B, C, H, W]</c>.</param>
    /// <param name="boxes">Per image b, boxes <c>[K_b, 4]</c> xyxy in image pixels.</param>
    /// <param name="pooledHeight">Output height, ≥ 1.</param>
    /// <param name="pooledWidth">Output width, ≥ 1.</param>
    /// <param name="spatialScale">Scale from image pixels to feature pixels (1/stride).</param>
    /// <param name="samplingRatio">Samples per bin along each axis; ≤ 0 for adaptive.</param>
    /// <param name="aligned">Shift the box by −0.5 feature pixel.</param>
    /// <returns>Pooled features <c>[ΣK_b, C, pooledHeight, pooledWidth]</c>, in image order.</returns>
    public static Tensor Apply(Tensor input, IReadOnlyList<Tensor> boxes, long pooledHeight, long pooledWidth,
        double spatialScale, int samplingRatio, bool aligned)
    {
        using var scope = NewDisposeScope();
        Tensor rois = ToRoiFormat(boxes, input.dtype, input.device);
        return Apply(input, rois, pooledHeight, pooledWidth, spatialScale, samplingRatio, aligned).MoveToOuterDisposeScope();
    }

    /// <summary>Concatenates per-image boxes <c>[K_b, 4]</c> into RoIs <c>[ΣK_b, 5]</c> with the image index first.</summary>
    public static Tensor ToRoiFormat(IReadOnlyList<Tensor> boxes, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        for (int b = 0; b < boxes.Count; b++)
        {
            BoxOps.CheckBoxes(boxes[b], $"boxes[{b}]");
            Tensor bx = boxes[b].to(dtype, device);
            parts.Add(torch.cat([torch.full([bx.shape[0], 1], b, dtype, device), bx], 1));
        }
        Tensor rois = parts.Count == 0 ? torch.zeros([0, 5], dtype, device) : torch.cat(parts, 0);
        return rois.MoveToOuterDisposeScope();
    }

    /// <summary>Consecutive runs of <paramref name="order"/> whose padded per-RoI size stays within <see cref="ChunkElements"/>.</summary>
    private static IEnumerable<long[]> Chunks(int[] order, Func<int, long> sizeH, Func<int, long> sizeW, Func<long, long, long> perRoi)
    {
        int pos = 0;
        while (pos < order.Length)
        {
            long h = sizeH(order[pos]), w = sizeW(order[pos]);
            int end = pos;
            while (end < order.Length)
            {
                long h2 = Math.Max(h, sizeH(order[end])), w2 = Math.Max(w, sizeW(order[end]));
                if (end > pos && perRoi(h2, w2) * (end - pos + 1) > ChunkElements) break;
                h = h2; w = w2; end++;
            }
            yield return order[pos..end].Select(i => (long)i).ToArray();
            pos = end;
        }
    }

    private static long[] ExtentMin(Tensor index, Tensor valid)
    {
        long r = index.shape[0];
        Tensor v = valid.repeat_interleave(2, 2);
        return torch.where(v, index, long.MaxValue).view(r, -1).min(1).values.cpu().data<long>().ToArray()
            .Select(x => x == long.MaxValue ? 0 : x).ToArray();
    }

    private static long[] ExtentMax(Tensor index, Tensor valid)
    {
        long r = index.shape[0];
        Tensor v = valid.repeat_interleave(2, 2);
        return torch.where(v, index, -1L).view(r, -1).max(1).values.cpu().data<long>().ToArray()
            .Select(x => Math.Max(0, x)).ToArray();
    }

    /// <summary>
    /// One chunk through the touched window: crop <c>[R, Wc, Hc, C]</c> gathered once, then
    /// out = Wy · crop · Wxᵀ with Wy <c>[R, PH, Hc]</c> and Wx <c>[R, PW, Wc]</c> the bilinear weights summed per pixel.
    /// </summary>
    private static Tensor ChunkCrop(Tensor table, long height, long width, Tensor batch, Tensor startH, Tensor startW,
        Tensor binH, Tensor binW, Tensor gridH, Tensor gridW, Tensor count, long pooledH, long pooledW, long maxH, long maxW,
        Tensor y0, Tensor x0, long hc, long wc)
    {
        long r = batch.shape[0], c = table.shape[1];
        var (rows, wy, _) = Axis(startH, binH, gridH, pooledH, maxH, height);   // [R, PH, 2G]
        var (cols, wx, _) = Axis(startW, binW, gridW, pooledW, maxW, width);    // [R, PW, 2G]
        Tensor localY = (rows - y0.view(r, 1, 1)).clamp(0, hc - 1);
        Tensor localX = (cols - x0.view(r, 1, 1)).clamp(0, wc - 1);
        Tensor my = torch.zeros([r, pooledH, hc], wy.dtype, wy.device).scatter_add(2, localY, wy);
        Tensor mx = torch.zeros([r, pooledW, wc], wx.dtype, wx.device).scatter_add(2, localX, wx);
        Tensor cropRows = (y0.view(r, 1) + torch.arange(hc, ScalarType.Int64, y0.device).view(1, hc)).clamp_max(height - 1);
        Tensor cropCols = (x0.view(r, 1) + torch.arange(wc, ScalarType.Int64, x0.device).view(1, wc)).clamp_max(width - 1);
        Tensor flat = (batch * (height * width)).view(r, 1, 1) + cropRows.view(r, 1, hc) * width + cropCols.view(r, wc, 1);
        Tensor values = table.index_select(0, flat.reshape(-1)).view(r, wc, hc * c);
        Tensor t = mx.bmm(values).view(r, pooledW, hc, c).permute(0, 2, 1, 3).reshape(r, hc, pooledW * c);
        Tensor pooled = my.bmm(t).view(r, pooledH, pooledW, c) / count.view(r, 1, 1, 1);
        return pooled.permute(0, 3, 1, 2).contiguous();
    }

    private static Tensor Chunk(Tensor table, long height, long width, Tensor batch, Tensor startH, Tensor startW,
        Tensor binH, Tensor binW, Tensor gridH, Tensor gridW, Tensor count, long pooledH, long pooledW, long maxH, long maxW)
    {
        long r = batch.shape[0], c = table.shape[1];
        var (rows, wy, _) = Axis(startH, binH, gridH, pooledH, maxH, height);   // [R, PH, 2G]
        var (cols, wx, _) = Axis(startW, binW, gridW, pooledW, maxW, width);    // [R, PW, 2G]
        long ky = rows.shape[2], kx = cols.shape[2];
        // Flat row index in the table, laid out [R, PH, PW, Ky, Kx].
        Tensor baseIdx = (batch * (height * width)).view(r, 1, 1, 1, 1);
        Tensor flat = baseIdx + rows.view(r, pooledH, 1, ky, 1) * width + cols.view(r, 1, pooledW, 1, kx);
        Tensor values = table.index_select(0, flat.reshape(-1)).view(r * pooledH * pooledW, ky * kx, c);
        Tensor weights = (wy.view(r, pooledH, 1, ky, 1) * wx.view(r, 1, pooledW, 1, kx)).reshape(r * pooledH * pooledW, 1, ky * kx);
        Tensor pooled = weights.bmm(values).view(r, pooledH, pooledW, c);
        pooled = pooled / count.view(r, 1, 1, 1);
        return pooled.permute(0, 3, 1, 2).contiguous();
    }

    /// <summary>
    /// Sample rows (or columns) and their bilinear weights along one axis: for each RoI, bin p and sample i &lt; grid,
    /// the two neighbouring pixel indices and weights (zero for masked samples and samples outside [−1, size]).
    /// </summary>
    private static (Tensor Index, Tensor Weight, Tensor Valid) Axis(Tensor start, Tensor bin, Tensor grid, long pooled, long maxGrid, long size)
    {
        long r = start.shape[0];
        var dtype = start.dtype;
        var device = start.device;
        Tensor p = torch.arange(pooled, dtype, device).view(1, pooled, 1);
        Tensor i = torch.arange(maxGrid, dtype, device).view(1, 1, maxGrid);
        Tensor s = start.view(r, 1, 1), b = bin.view(r, 1, 1), g = grid.view(r, 1, 1);
        // Same operation order as the kernel: start + p·bin + (i + .5)·bin / grid.
        Tensor coord = (s + p * b) + (i + 0.5) * b / g.to(dtype);
        Tensor valid = coord.ge(-1.0).logical_and(coord.le((double)size)).logical_and(i.lt(g.to(dtype)));
        Tensor y = torch.where(valid, coord.clamp_min(0.0), torch.zeros_like(coord));
        Tensor low = y.floor().to(ScalarType.Int64);
        Tensor atEnd = low.ge(size - 1);
        low = torch.where(atEnd, torch.full_like(low, size - 1), low);
        Tensor high = torch.where(atEnd, low, low + 1);
        y = torch.where(atEnd, low.to(dtype), y);
        Tensor l = y - low.to(dtype);
        Tensor h = 1.0 - l;
        Tensor mask = valid.to(dtype);
        Tensor index = torch.stack([low, high], 3).view(r, pooled, 2 * maxGrid);
        Tensor weight = torch.stack([h * mask, l * mask], 3).view(r, pooled, 2 * maxGrid);
        return (index, weight, valid.view(r, pooled, maxGrid));
    }
}
