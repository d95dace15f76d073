namespace Man.Vision.Data.Masks;

/// <summary>
/// Polygon → mask exactly as pycocotools (<c>frPyObjects</c> / <c>rleFrPoly</c>): the outline is traced on a
/// 5× finer grid, the crossings of pixel-column centres are collected and turned into column-major runs.
/// </summary>
/// <remarks>
/// A pixel (x, y) is inside when its centre lies below an odd number of outline crossings of column x,
/// so the raster area is close to, but not the same as, the polygon's analytic area (COCO's json <c>area</c>).
/// Several polygons of one object are merged (union), as <c>COCO.annToRLE</c> does.
/// </remarks>
public static class PolygonRasterizer
{
    private const double Scale = 5;

    /// <summary>Rasterises one polygon given as <c>[x0, y0, x1, y1, ...]</c> in pixel coordinates.</summary>
    /// <exception cref="ArgumentException">The coordinate count is odd.</exception>
    public static Rle ToRle(IReadOnlyList<double> xy, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(xy);
        if (xy.Count % 2 != 0) throw new ArgumentException($"A polygon needs x,y pairs, got {xy.Count} numbers.", nameof(xy));
        int k = xy.Count / 2;
        if (k == 0) return Rle.Empty(height, width);

        // Vertices on the fine grid, closed.
        var x = new int[k + 1];
        var y = new int[k + 1];
        for (int j = 0; j < k; j++)
        {
            x[j] = CInt(Scale * xy[2 * j] + .5);
            y[j] = CInt(Scale * xy[2 * j + 1] + .5);
        }
        x[k] = x[0];
        y[k] = y[0];

        // Dense boundary points, always walking along the major axis in increasing order. A repeated vertex gives
        // 0/0 = NaN as in C, and the cast of NaN is emulated (INT_MIN), so such polygons rasterise as pycocotools'.
        long total = 0;
        for (int j = 0; j < k; j++) total += Math.Max(Math.Abs((long)x[j] - x[j + 1]), Math.Abs((long)y[j] - y[j + 1])) + 1;
        var u = new int[total];
        var v = new int[total];
        int m = 0;
        for (int j = 0; j < k; j++)
        {
            int xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
            int dx = Math.Abs(xe - xs), dy = Math.Abs(ys - ye);
            bool flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
            if (flip) { (xs, xe) = (xe, xs); (ys, ye) = (ye, ys); }
            double s = dx >= dy ? (double)(ye - ys) / dx : (double)(xe - xs) / dy;
            if (dx >= dy)
            {
                for (int d = 0; d <= dx; d++)
                {
                    int t = flip ? dx - d : d;
                    u[m] = t + xs;
                    v[m] = CInt(ys + s * t + .5);
                    m++;
                }
            }
            else
            {
                for (int d = 0; d <= dy; d++)
                {
                    int t = flip ? dy - d : d;
                    v[m] = t + ys;
                    u[m] = CInt(xs + s * t + .5);
                    m++;
                }
            }
        }

        // Where the outline crosses a pixel-column centre, back on the pixel grid.
        var starts = new List<long>();
        for (int j = 1; j < m; j++)
        {
            if (u[j] == u[j - 1]) continue;
            double xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
            xd = (xd + .5) / Scale - .5;
            if (Math.Floor(xd) != xd || xd < 0 || xd > width - 1.0) continue;
            double yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
            yd = (yd + .5) / Scale - .5;
            if (yd < 0) yd = 0;
            else if (yd > height) yd = height;
            yd = Math.Ceiling(yd);
            starts.Add((long)xd * height + (long)yd);
        }

        // Sorted crossing positions become alternating runs; zero-length runs are folded away.
        starts.Add((long)height * width);
        starts.Sort();
        var diffs = new long[starts.Count];
        long prev = 0;
        for (int j = 0; j < starts.Count; j++) { diffs[j] = starts[j] - prev; prev = starts[j]; }
        var counts = new List<uint>(diffs.Length) { (uint)diffs[0] };
        for (int j = 1; j < diffs.Length;)
        {
            if (diffs[j] > 0) counts.Add((uint)diffs[j++]);
            else
            {
                j++;
                if (j < diffs.Length) counts[^1] += (uint)diffs[j++];
            }
        }
        return new Rle(height, width, counts);
    }

    /// <summary>C's <c>(int)</c> of a double on x86 (NaN and out-of-range values give INT_MIN), as pycocotools computes.</summary>
    private static int CInt(double value) =>
        double.IsNaN(value) || value >= 2147483648.0 || value <= -2147483649.0 ? int.MinValue : (int)value;

    /// <summary>Rasterises and merges (union) the polygons of one object.</summary>
    public static Rle ToRle(IReadOnlyList<IReadOnlyList<double>> polygons, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(polygons);
        if (polygons.Count == 0) return Rle.Empty(height, width);
        var parts = polygons.Select(p => ToRle(p, height, width)).ToArray();
        return Rle.Merge(parts);
    }

    /// <summary>The mask of a box <c>(x, y, w, h)</c>, as pycocotools <c>frBbox</c> (a 4-corner polygon).</summary>
    public static Rle FromBbox(double x, double y, double w, double h, int height, int width) =>
        ToRle([x, y, x, y + h, x + w, y + h, x + w, y], height, width);

    /// <summary>The analytic area of a polygon <c>[x0, y0, ...]</c> (shoelace formula, absolute value).</summary>
    public static double ShoelaceArea(IReadOnlyList<double> xy)
    {
        ArgumentNullException.ThrowIfNull(xy);
        int k = xy.Count / 2;
        double a = 0;
        for (int j = 0; j < k; j++)
        {
            int n = (j + 1) % k;
            a += xy[2 * j] * xy[2 * n + 1] - xy[2 * n] * xy[2 * j + 1];
        }
        return Math.Abs(a) / 2;
    }
}
