using Man.Vision.Data.Masks;

namespace Man.Vision.Data.Records;

/// <summary>An instance mask as stored in an annotation file: polygons or an RLE (see the derived records).</summary>
public abstract record MaskAnnotation
{
    /// <summary>The mask as an RLE on an image of <paramref name="height"/>×<paramref name="width"/> (pycocotools <c>annToRLE</c>).</summary>
    public abstract Rle ToRle(int height, int width);

    /// <summary>The mask as row-major 0/1 bytes, <c>height·width</c> of them (pycocotools <c>annToMask</c>).</summary>
    public byte[] Rasterize(int height, int width) => ToRle(height, width).Decode();
}

/// <summary>
/// One or more polygons <c>[x0, y0, x1, y1, ...]</c> of one object (COCO's list segmentation), merged when rasterised.
/// </summary>
/// <param name="Polygons">The polygons in pixel coordinates.</param>
public sealed record PolygonMask(IReadOnlyList<double[]> Polygons) : MaskAnnotation
{
    /// <inheritdoc/>
    /// <remarks>As pycocotools, polygons of exactly 4 numbers are read as boxes <c>[x, y, w, h]</c>.</remarks>
    public override Rle ToRle(int height, int width)
    {
        if (Polygons.Count > 0 && Polygons[0].Length == 4)
            return Rle.Merge(Polygons.Select(p => PolygonRasterizer.FromBbox(p[0], p[1], p[2], p[3], height, width)).ToArray());
        return PolygonRasterizer.ToRle(Polygons.Select(p => (IReadOnlyList<double>)p).ToArray(), height, width);
    }

    /// <summary>A copy with every coordinate transformed by <paramref name="map"/> (x, y) → (x', y').</summary>
    public PolygonMask Transform(Func<double, double, (double X, double Y)> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return new PolygonMask(Polygons.Select(p =>
        {
            var q = new double[p.Length];
            for (int i = 0; i + 1 < p.Length; i += 2) (q[i], q[i + 1]) = map(p[i], p[i + 1]);
            return q;
        }).ToArray());
    }
}

/// <summary>A run-length encoded mask (COCO's dict segmentation, compressed string or uncompressed counts).</summary>
/// <param name="Rle">The mask; its size must be the image's.</param>
public sealed record RleMask(Rle Rle) : MaskAnnotation
{
    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The RLE's size is not <paramref name="height"/>×<paramref name="width"/>.</exception>
    public override Rle ToRle(int height, int width)
    {
        if (Rle.Height != height || Rle.Width != width)
            throw new ArgumentException($"The RLE mask is {Rle.Height}x{Rle.Width} but the image is {height}x{width}.");
        return Rle;
    }
}
