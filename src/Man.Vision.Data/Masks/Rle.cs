namespace Man.Vision.Data.Masks;

/// <summary>
/// A binary mask run-length encoded as COCO does: the pixels are read in column-major (Fortran) order and
/// <see cref="Counts"/> alternates runs of 0 and 1, starting with a (possibly empty) run of 0.
/// </summary>
/// <remarks>
/// The counts add up to <c>Height·Width</c>. Masks are decoded to row-major bytes (index <c>y·W + x</c>),
/// the layout the rest of the library (and a <c>[H, W]</c> tensor) uses.
/// </remarks>
public sealed class Rle : IEquatable<Rle>
{
    private readonly uint[] _counts;

    /// <summary>Creates an RLE; the counts are validated to add up to <c>height·width</c>.</summary>
    /// <exception cref="ArgumentException">A size is negative or the counts do not cover the mask exactly.</exception>
    public Rle(int height, int width, IEnumerable<uint> counts)
    {
        if (height < 0 || width < 0) throw new ArgumentException($"An RLE mask needs a non-negative size, got {height}x{width}.");
        ArgumentNullException.ThrowIfNull(counts);
        _counts = counts.ToArray();
        long sum = 0;
        foreach (uint c in _counts) sum += c;
        if (sum != (long)height * width)
            throw new ArgumentException($"The RLE counts add up to {sum} pixels, but a {height}x{width} mask has {(long)height * width}.");
        Height = height;
        Width = width;
    }

    /// <summary>Mask height (COCO's <c>size[0]</c>).</summary>
    public int Height { get; }

    /// <summary>Mask width (COCO's <c>size[1]</c>).</summary>
    public int Width { get; }

    /// <summary>Alternating run lengths of 0 and 1 in column-major order.</summary>
    public IReadOnlyList<uint> Counts => _counts;

    /// <summary>The number of foreground pixels (pycocotools <c>area</c>).</summary>
    public long Area
    {
        get
        {
            long a = 0;
            for (int i = 1; i < _counts.Length; i += 2) a += _counts[i];
            return a;
        }
    }

    /// <summary>Encodes a row-major mask of <c>height·width</c> bytes (non-zero = foreground).</summary>
    public static Rle Encode(ReadOnlySpan<byte> rowMajor, int height, int width)
    {
        if (rowMajor.Length != height * width)
            throw new ArgumentException($"A {height}x{width} mask needs {height * width} bytes, got {rowMajor.Length}.");
        var counts = new List<uint>();
        bool prev = false;
        uint run = 0;
        for (int x = 0; x < width; x++)
        {
            for (int y = 0; y < height; y++)
            {
                bool v = rowMajor[y * width + x] != 0;
                if (v != prev) { counts.Add(run); run = 0; prev = v; }
                run++;
            }
        }
        counts.Add(run);
        return new Rle(height, width, counts);
    }

    /// <summary>Decodes into a new row-major mask of 0/1 bytes.</summary>
    public byte[] Decode()
    {
        var mask = new byte[Height * Width];
        DecodeInto(mask);
        return mask;
    }

    /// <summary>Writes the mask into a row-major buffer of <c>Height·Width</c> bytes (foreground 1, background 0).</summary>
    public void DecodeInto(Span<byte> rowMajor)
    {
        if (rowMajor.Length != Height * Width)
            throw new ArgumentException($"A {Height}x{Width} mask needs {Height * Width} bytes, got {rowMajor.Length}.");
        rowMajor.Clear();
        long p = 0;
        int h = Height, w = Width;
        for (int i = 0; i < _counts.Length; i++)
        {
            long end = p + _counts[i];
            if ((i & 1) == 1)
            {
                for (long q = p; q < end; q++)
                {
                    int x = (int)(q / h), y = (int)(q - (long)x * h);
                    rowMajor[y * w + x] = 1;
                }
            }
            p = end;
        }
    }

    /// <summary>The tight box of the foreground as pycocotools <c>toBbox</c>: <c>(x, y, w, h)</c>, all 0 for an empty mask.</summary>
    public (double X, double Y, double W, double H) ToBbox()
    {
        int m = _counts.Length / 2 * 2;
        if (m == 0 || Area == 0) return (0, 0, 0, 0);
        long h = Height, xs = Width, ys = Height, xe = 0, ye = 0, cc = 0, xp = 0;
        for (int j = 0; j < m; j++)
        {
            cc += _counts[j];
            long t = cc - j % 2;
            long y = t % h, x = (t - y) / h;
            if (j % 2 == 0) xp = x;
            else if (xp < x) { ys = 0; ye = h - 1; }
            xs = Math.Min(xs, x); xe = Math.Max(xe, x); ys = Math.Min(ys, y); ye = Math.Max(ye, y);
        }
        return (xs, ys, xe - xs + 1, ye - ys + 1);
    }

    /// <summary>The union (or the intersection) of masks of one size, as pycocotools <c>rleMerge</c> (on the runs).</summary>
    /// <exception cref="ArgumentException">The masks differ in size or none is given.</exception>
    public static Rle Merge(IReadOnlyList<Rle> masks, bool intersect = false)
    {
        ArgumentNullException.ThrowIfNull(masks);
        if (masks.Count == 0) throw new ArgumentException("Merge needs at least one mask.", nameof(masks));
        int h = masks[0].Height, w = masks[0].Width;
        foreach (var m in masks)
            if (m.Height != h || m.Width != w)
                throw new ArgumentException($"Cannot merge a {m.Height}x{m.Width} mask with a {h}x{w} one.");
        if (masks.Count == 1) return masks[0];
        var cnts = masks[0]._counts;
        for (int i = 1; i < masks.Count; i++)
        {
            uint[] A = cnts, B = masks[i]._counts;
            var merged = new List<uint>(A.Length + B.Length);
            uint ca = A.Length > 0 ? A[0] : 0, cb = B.Length > 0 ? B[0] : 0;
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
                if (cb == 0 && b < B.Length) { cb = B[b++]; vb = !vb; }
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
        ArgumentNullException.ThrowIfNull(dt);
        ArgumentNullException.ThrowIfNull(gt);
        var d = dt.ToBbox();
        var g = gt.ToBbox();
        if (BoxIou(d.X, d.Y, d.W, d.H, g.X, g.Y, g.W, g.H, crowd) <= 0) return 0;
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

    /// <summary>
    /// Box IoU as pycocotools' <c>bbIou</c>: <c>[x, y, w, h]</c> boxes, no +1, union = detection area for a crowd object.
    /// </summary>
    public static double BoxIou(double dx, double dy, double dw, double dh, double gx, double gy, double gw, double gh, bool crowd)
    {
        double w = Math.Min(dw + dx, gw + gx) - Math.Max(dx, gx);
        if (w <= 0) return 0;
        double h = Math.Min(dh + dy, gh + gy) - Math.Max(dy, gy);
        if (h <= 0) return 0;
        double da = dw * dh;
        double inter = w * h;
        double union = crowd ? da : da + gw * gh - inter;
        return inter / union;
    }

    /// <summary>
    /// The COCO compressed string of the counts (pycocotools <c>rleToString</c>): each count, from the third on
    /// as the difference to the count two places before, in 5-bit groups with a continuation bit, offset by 48.
    /// </summary>
    public string ToCompressedString()
    {
        var sb = new System.Text.StringBuilder(_counts.Length * 2);
        for (int i = 0; i < _counts.Length; i++)
        {
            long x = _counts[i];
            if (i > 2) x -= _counts[i - 2];
            bool more = true;
            while (more)
            {
                int c = (int)(x & 0x1f);
                x >>= 5;
                more = (c & 0x10) != 0 ? x != -1 : x != 0;
                if (more) c |= 0x20;
                sb.Append((char)(c + 48));
            }
        }
        return sb.ToString();
    }

    /// <summary>Reads a COCO compressed counts string (pycocotools <c>rleFrString</c>).</summary>
    /// <exception cref="FormatException">A character is outside '0'..'o', the string ends inside a number, or a count is negative.</exception>
    /// <exception cref="ArgumentException">The counts do not add up to <c>height·width</c>.</exception>
    public static Rle FromCompressedString(string counts, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var list = new List<uint>(counts.Length);
        int p = 0;
        while (p < counts.Length)
        {
            long x = 0;
            int k = 0;
            bool more = true;
            while (more)
            {
                if (p >= counts.Length)
                    throw new FormatException($"The RLE string ends inside a number (at character {p}).");
                int c = counts[p] - 48;
                if (c < 0 || c > 63)
                    throw new FormatException($"The RLE string has the character '{counts[p]}' at {p}; only '0'..'o' occur in COCO's format.");
                if (k > 12) throw new FormatException($"The RLE string has a number longer than 13 characters at {p}.");
                x |= (long)(c & 0x1f) << (5 * k);
                more = (c & 0x20) != 0;
                p++;
                k++;
                if (!more && (c & 0x10) != 0) x |= -1L << (5 * k);
            }
            if (list.Count > 2) x += list[^2];
            if (x < 0 || x > uint.MaxValue)
                throw new FormatException($"The RLE string gives the count {x} (entry {list.Count}), outside 0..{uint.MaxValue}.");
            list.Add((uint)x);
        }
        return new Rle(height, width, list);
    }

    /// <summary>An RLE of an all-zero mask.</summary>
    public static Rle Empty(int height, int width) => new(height, width, [(uint)(height * width)]);

    /// <inheritdoc/>
    public bool Equals(Rle? other) =>
        other is not null && other.Height == Height && other.Width == Width && Normalised().SequenceEqual(other.Normalised());

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Rle);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Height, Width, Area);

    /// <inheritdoc/>
    public override string ToString() => $"Rle {Height}x{Width}, area {Area}, {_counts.Length} runs";

    // Counts with empty inner runs folded, so equal masks compare equal whatever encoder made them.
    private List<uint> Normalised()
    {
        var r = new List<uint>(_counts.Length);
        for (int i = 0; i < _counts.Length; i++)
        {
            uint c = _counts[i];
            if (c == 0) continue;
            bool fg = (i & 1) == 1;
            if (r.Count == 0 && fg) r.Add(0);
            if (r.Count > 0 && ((r.Count - 1) % 2 == 1) == fg) r[^1] += c;
            else r.Add(c);
        }
        return r;
    }
}
