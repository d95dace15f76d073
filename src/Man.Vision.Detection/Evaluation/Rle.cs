using System.Text;

namespace Man.Vision.Detection.Evaluation;

/// <summary>
/// A binary mask in COCO's run-length encoding (pycocotools' <c>maskApi.c</c>): runs alternate 0s and 1s, starting
/// with 0s, over the pixels in column-major order (down each column, columns left to right).
/// </summary>
public sealed class Rle
{
    private readonly uint[] _counts;

    /// <summary>Creates an RLE from run lengths.</summary>
    /// <param name="height">Mask height h.</param>
    /// <param name="width">Mask width w.</param>
    /// <param name="counts">Run lengths, starting with a run of 0s (possibly empty); they must add up to h·w.</param>
    /// <exception cref="ArgumentException">Negative sizes or runs that do not cover h·w pixels.</exception>
    public Rle(int height, int width, uint[] counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (height < 0 || width < 0)
            throw new ArgumentException($"An RLE mask needs non-negative sizes, got {height}×{width}.");
        ulong total = 0;
        foreach (uint c in counts) total += c;
        if (total != (ulong)height * (ulong)width)
            throw new ArgumentException($"RLE runs cover {total} pixels but the mask has {height}×{width} = {(long)height * width}.");
        Height = height;
        Width = width;
        _counts = counts;
    }

    /// <summary>Mask height.</summary>
    public int Height { get; }

    /// <summary>Mask width.</summary>
    public int Width { get; }

    /// <summary>The run lengths.</summary>
    public IReadOnlyList<uint> Counts => _counts;

    /// <summary>The number of foreground pixels (<c>rleArea</c>).</summary>
    public long Area
    {
        get
        {
            long a = 0;
            for (int j = 1; j < _counts.Length; j += 2) a += _counts[j];
            return a;
        }
    }

    /// <summary>Encodes a row-major mask <c>[h, w]</c> (non-zero = foreground), as pycocotools' <c>encode</c> of a Fortran-ordered array.</summary>
    public static Rle Encode(ReadOnlySpan<byte> mask, int height, int width)
    {
        if ((long)height * width != mask.Length)
            throw new ArgumentException($"The mask has {mask.Length} pixels, not {height}×{width}.", nameof(mask));
        var counts = new List<uint>();
        bool previous = false;
        uint run = 0;
        for (int x = 0; x < width; x++)
            for (int y = 0; y < height; y++)
            {
                bool v = mask[y * width + x] != 0;
                if (v != previous) { counts.Add(run); run = 0; previous = v; }
                run++;
            }
        counts.Add(run);
        return new Rle(height, width, [.. counts]);
    }

    /// <summary>Encodes a row-major boolean mask <c>[h, w]</c>.</summary>
    public static Rle Encode(ReadOnlySpan<bool> mask, int height, int width)
    {
        var bytes = new byte[mask.Length];
        for (int i = 0; i < mask.Length; i++) bytes[i] = mask[i] ? (byte)1 : (byte)0;
        return Encode(bytes, height, width);
    }

    /// <summary>Decodes to a row-major mask <c>[h, w]</c> of 0/1.</summary>
    public byte[] Decode()
    {
        var mask = new byte[Height * Width];
        int p = 0;
        byte v = 0;
        foreach (uint c in _counts)
        {
            for (uint k = 0; k < c; k++, p++)
            {
                int x = p / Height, y = p % Height;
                mask[y * Width + x] = v;
            }
            v ^= 1;
        }
        return mask;
    }

    /// <summary>
    /// The bounding box <c>[x, y, w, h]</c> of the foreground (<c>rleToBbox</c>, including its rule that a run spanning
    /// two columns widens the box to the full height); zeros for an empty mask.
    /// </summary>
    public (double X, double Y, double W, double H) ToBbox()
    {
        uint h = (uint)Height, w = (uint)Width;
        int m = _counts.Length / 2 * 2;
        if (m == 0) return (0, 0, 0, 0);
        uint xs = w, ys = h, xe = 0, ye = 0, cc = 0, xp = 0;
        for (int j = 0; j < m; j++)
        {
            cc += _counts[j];
            uint t = cc - (uint)(j % 2);
            uint y = t % h, x = (t - y) / h;
            if (j % 2 == 0) xp = x;
            else if (xp < x) { ys = 0; ye = h - 1; }
            xs = Math.Min(xs, x); xe = Math.Max(xe, x); ys = Math.Min(ys, y); ye = Math.Max(ye, y);
        }
        return (xs, ys, xe - xs + 1.0, ye - ys + 1.0);
    }

    /// <summary>Parses COCO's compressed string form (<c>rleFrString</c>: LEB128-like, 6 bits per character from '0').</summary>
    /// <exception cref="ArgumentException">The string has characters outside the alphabet or its runs do not cover h·w.</exception>
    public static Rle FromString(string counts, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var cnts = new List<uint>();
        int p = 0;
        while (p < counts.Length)
        {
            long x = 0;
            int k = 0;
            bool more = true;
            while (more)
            {
                if (p >= counts.Length)
                    throw new ArgumentException("The compressed RLE string ends in the middle of a number.");
                int c = counts[p] - 48;
                if (c < 0 || c > 63)
                    throw new ArgumentException($"The compressed RLE string has the character '{counts[p]}' at {p}, outside '0'…'o'.");
                if (k > 6)
                    throw new ArgumentException("The compressed RLE string holds a number longer than 7 characters.");
                x |= (long)(c & 0x1f) << (5 * k);
                more = (c & 0x20) != 0;
                p++;
                k++;
                if (!more && (c & 0x10) != 0) x |= -1L << (5 * k);
            }
            if (cnts.Count > 2) x += cnts[^2];
            cnts.Add((uint)x);
        }
        return new Rle(height, width, [.. cnts]);
    }

    /// <summary>COCO's compressed string form (<c>rleToString</c>).</summary>
    public string ToCompressedString()
    {
        var s = new StringBuilder();
        for (int i = 0; i < _counts.Length; i++)
        {
            long x = _counts[i];
            if (i > 2) x -= _counts[i - 2];
            bool more = true;
            while (more)
            {
                long c = x & 0x1f;
                x >>= 5;
                more = (c & 0x10) != 0 ? x != -1 : x != 0;
                if (more) c |= 0x20;
                s.Append((char)(c + 48));
            }
        }
        return s.ToString();
    }

    /// <summary>
    /// Rasterises a polygon <c>[x0, y0, x1, y1, …]</c> as pycocotools' <c>rleFrPoly</c> does (5× upsampled boundary,
    /// column crossings, pixel centres).
    /// </summary>
    public static Rle FromPolygon(ReadOnlySpan<double> xy, int height, int width)
    {
        int k = xy.Length / 2;
        const double scale = 5;
        var x = new int[k + 1];
        var y = new int[k + 1];
        for (int j = 0; j < k; j++) x[j] = CInt(scale * xy[j * 2] + .5);
        x[k] = x[0];
        for (int j = 0; j < k; j++) y[j] = CInt(scale * xy[j * 2 + 1] + .5);
        y[k] = y[0];
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
        // Points where the boundary crosses a pixel column, downsampled.
        int n = m;
        var bx = new List<int>();
        var by = new List<int>();
        for (int j = 1; j < n; j++)
        {
            if (u[j] == u[j - 1]) continue;
            double xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
            xd = (xd + .5) / scale - .5;
            if (Math.Floor(xd) != xd || xd < 0 || xd > width - 1.0) continue;
            double yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
            yd = (yd + .5) / scale - .5;
            if (yd < 0) yd = 0;
            else if (yd > height) yd = height;
            yd = Math.Ceiling(yd);
            bx.Add((int)xd);
            by.Add((int)yd);
        }
        // Run lengths from the sorted crossing positions.
        int count = bx.Count;
        var a = new uint[count + 1];
        for (int j = 0; j < count; j++) a[j] = unchecked((uint)(bx[j] * height + by[j]));
        a[count] = unchecked((uint)height * (uint)width);
        Array.Sort(a);
        uint previous = 0;
        for (int j = 0; j < a.Length; j++) { uint t = a[j]; a[j] -= previous; previous = t; }
        var b = new List<uint>(a.Length) { a[0] };
        for (int j = 1; j < a.Length;)
        {
            if (a[j] > 0) b.Add(a[j++]);
            else
            {
                j++;
                if (j < a.Length) b[^1] += a[j++];
            }
        }
        return new Rle(height, width, [.. b]);
    }

    /// <summary>The rectangle <c>[x, y, w, h]</c> rasterised as a polygon (<c>rleFrBbox</c>).</summary>
    public static Rle FromBbox(double x, double y, double w, double h, int height, int width)
    {
        double xe = x + w, ye = y + h;
        return FromPolygon([x, y, x, ye, xe, ye, xe, y], height, width);
    }

    /// <summary>The union (or intersection) of masks of one size (<c>rleMerge</c>).</summary>
    /// <exception cref="ArgumentException">The masks differ in size.</exception>
    public static Rle Merge(IReadOnlyList<Rle> rles, bool intersect = false)
    {
        ArgumentNullException.ThrowIfNull(rles);
        if (rles.Count == 0) return new Rle(0, 0, []);
        int h = rles[0].Height, w = rles[0].Width;
        var cnts = (uint[])rles[0]._counts.Clone();
        if (rles.Count == 1) return new Rle(h, w, cnts);
        for (int i = 1; i < rles.Count; i++)
        {
            var B = rles[i];
            if (B.Height != h || B.Width != w)
                throw new ArgumentException($"Cannot merge masks of {h}×{w} and {B.Height}×{B.Width}.");
            var A = cnts;
            var merged = new List<uint>(A.Length + B._counts.Length);
            uint ca = A.Length > 0 ? A[0] : 0, cb = B._counts.Length > 0 ? B._counts[0] : 0;
            bool v = false, va = false, vb = false;
            int a = 1, b = 1;
            uint cc = 0, ct = 1;
            while (ct > 0)
            {
                uint c = Math.Min(ca, cb);
                cc += c;
                ct = 0;
                ca -= c;
                if (ca == 0 && a < A.Length) { ca = A[a++]; va = !va; }
                ct += ca;
                cb -= c;
                if (cb == 0 && b < B._counts.Length) { cb = B._counts[b++]; vb = !vb; }
                ct += cb;
                bool vp = v;
                v = intersect ? va && vb : va || vb;
                if (v != vp || ct == 0) { merged.Add(cc); cc = 0; }
            }
            cnts = [.. merged];
        }
        return new Rle(h, w, cnts);
    }

    /// <summary>
    /// Mask IoU as pycocotools' <c>rleIou</c>: 0 when the bounding boxes do not overlap, −1 when the sizes differ,
    /// otherwise intersection over union, the union being the detection's area for a crowd object.
    /// </summary>
    public static double Iou(Rle dt, Rle gt, bool crowd)
    {
        var d = dt.ToBbox();
        var g = gt.ToBbox();
        if (CocoEval.BoxIou(d.X, d.Y, d.W, d.H, g.X, g.Y, g.W, g.H, crowd) <= 0) return 0;
        if (dt.Height != gt.Height || dt.Width != gt.Width) return -1;
        uint[] A = dt._counts, B = gt._counts;
        uint ca = A[0], cb = B[0], inter = 0, union = 0, ct = 1;
        bool va = false, vb = false;
        int a = 1, b = 1;
        while (ct > 0)
        {
            uint c = Math.Min(ca, cb);
            if (va || vb) { union += c; if (va && vb) inter += c; }
            ct = 0;
            ca -= c;
            if (ca == 0 && a < A.Length) { ca = A[a++]; va = !va; }
            ct += ca;
            cb -= c;
            if (cb == 0 && b < B.Length) { cb = B[b++]; vb = !vb; }
            ct += cb;
        }
        if (inter == 0) union = 1;
        else if (crowd) union = (uint)dt.Area;
        return (double)inter / union;
    }

    /// <summary>C's double → int conversion on x86-64: truncation, and INT_MIN for NaN or out of range.</summary>
    private static int CInt(double value) =>
        double.IsNaN(value) || value >= 2147483648.0 || value <= -2147483649.0 ? int.MinValue : (int)value;
}
