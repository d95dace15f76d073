using Man.Testing;
using Man.Vision.Data.Masks;
using Man.Vision.Detection.Evaluation;
using Newtonsoft.Json.Linq;

namespace Man.Vision.Detection.Tests.Evaluation;

/// <summary>COCO run-length encoding (pycocotools' maskApi) on small masks with known encodings and pixelwise references.</summary>
public sealed class RleTests
{
    private static byte[] RandomMask(Random rng, int h, int w, double density = 0.4)
    {
        // Blobs rather than noise: a few rectangles, so runs are long as in real masks.
        var m = new byte[h * w];
        for (int r = 0; r < 3; r++)
        {
            int x0 = rng.Next(w), y0 = rng.Next(h), x1 = Math.Min(w, x0 + rng.Next(1, w)), y1 = Math.Min(h, y0 + rng.Next(1, h));
            for (int y = y0; y < y1; y++) for (int x = x0; x < x1; x++) m[y * w + x] = 1;
        }
        for (int i = 0; i < m.Length; i++) if (rng.NextDouble() < density * 0.05) m[i] ^= 1;
        return m;
    }

    [Fact]
    public void EncodesColumnMajorRunsStartingWithZeros()
    {
        // [[0, 1], [1, 1]] read down the columns: 0, 1 | 1, 1 → one 0 then three 1s.
        var rle = Rle.Encode(new byte[] { 0, 1, 1, 1 }, 2, 2);
        Assert.Equal([1u, 3u], rle.Counts);
        Assert.Equal(3, rle.Area);
        // A mask starting with a foreground pixel has an empty first run.
        Assert.Equal([0u, 1u, 3u], Rle.Encode(new byte[] { 1, 0, 0, 0 }, 2, 2).Counts);
        Assert.Equal([4u], Rle.Encode(new byte[4], 2, 2).Counts);
    }

    [Fact]
    public void CompressedStringsRoundTripAndMatchKnownText()
    {
        // Small counts are single characters '0' + value; from the fourth run on, differences to the run two back are stored.
        Assert.Equal("13", new Rle(2, 2, [1, 3]).ToCompressedString());
        Assert.Equal("0113", new Rle(2, 3, [0, 1, 1, 4]).ToCompressedString()); // 4 − 1 = 3
        // 100 needs two 5-bit groups: 100 = 0b11_00100 → (4 | 0x20) + 48 = 'T', 3 + 48 = '3'.
        Assert.Equal("T3", new Rle(10, 10, [100]).ToCompressedString());
        var rng = new Random(3);
        for (int i = 0; i < 50; i++)
        {
            int h = rng.Next(1, 40), w = rng.Next(1, 40);
            var rle = Rle.Encode(RandomMask(rng, h, w), h, w);
            var back = Rle.FromCompressedString(rle.ToCompressedString(), h, w);
            Assert.Equal(rle.Counts, back.Counts);
        }
    }

    [Fact]
    public void DecodeInvertsEncode()
    {
        var rng = new Random(5);
        for (int i = 0; i < 30; i++)
        {
            int h = rng.Next(1, 30), w = rng.Next(1, 30);
            var mask = RandomMask(rng, h, w);
            Assert.Equal(mask, Rle.Encode(mask, h, w).Decode());
        }
    }

    [Fact]
    public void MergeAndIouEqualPixelwiseReferences()
    {
        var rng = new Random(7);
        for (int i = 0; i < 40; i++)
        {
            int h = rng.Next(2, 30), w = rng.Next(2, 30);
            var a = RandomMask(rng, h, w);
            var b = RandomMask(rng, h, w);
            var ra = Rle.Encode(a, h, w);
            var rb = Rle.Encode(b, h, w);
            int inter = 0, union = 0, areaA = 0;
            for (int p = 0; p < a.Length; p++)
            {
                if (a[p] != 0 && b[p] != 0) inter++;
                if (a[p] != 0 || b[p] != 0) union++;
                if (a[p] != 0) areaA++;
            }
            Assert.Equal(union, Rle.Merge([ra, rb]).Area);
            Assert.Equal(inter, Rle.Merge([ra, rb], intersect: true).Area);
            Assert.Equal(a.Zip(b, (x, y) => (byte)(x | y)).ToArray(), Rle.Merge([ra, rb]).Decode());
            double expected = inter == 0 ? 0 : (double)inter / union;
            Assert.Equal(expected, Rle.Iou(ra, rb, crowd: false), 1e-15);
            Assert.Equal(inter == 0 ? 0 : (double)inter / areaA, Rle.Iou(ra, rb, crowd: true), 1e-15);
        }
    }

    [Fact]
    public void BoundingBoxOfMask()
    {
        // Foreground rows 1..2 of columns 2..4 of a 5×6 mask.
        var mask = new byte[5 * 6];
        for (int y = 1; y <= 2; y++) for (int x = 2; x <= 4; x++) mask[y * 6 + x] = 1;
        Assert.Equal((2.0, 1.0, 3.0, 2.0), Rle.Encode(mask, 5, 6).ToBbox());
        Assert.Equal((0.0, 0.0, 0.0, 0.0), Rle.Encode(new byte[6], 2, 3).ToBbox());
    }

    [Fact]
    public void IntegerBoxesRasteriseToTheirPixels()
    {
        // rleFrBbox of [2, 3, 5, 4] covers x = 2..6, y = 3..6: 20 pixels, and its bounding box is the box itself.
        var rle = PolygonRasterizer.FromBbox(2, 3, 5, 4, 10, 12);
        Assert.Equal(20, rle.Area);
        Assert.Equal((2.0, 3.0, 5.0, 4.0), rle.ToBbox());
        var decoded = rle.Decode();
        for (int y = 0; y < 10; y++)
            for (int x = 0; x < 12; x++)
                Assert.Equal(x >= 2 && x < 7 && y >= 3 && y < 7 ? 1 : 0, decoded[y * 12 + x]);
    }

    [Fact]
    public void TriangleRasterisesToPixelCentresInside()
    {
        // Right triangle (0,0), (10,0), (0,10): pixel (x, y) whose centre (x+.5, y+.5) is inside satisfies x + y ≤ 9,
        // 55 pixels; rleFrPoly's boundary rounding adds the diagonal pixels touched at their centre (x + y = 9 is on
        // the inside already), so the area lies between 55 and the polygon area 50 + half the diagonal.
        var rle = PolygonRasterizer.ToRle([0, 0, 10, 0, 0, 10], 12, 12);
        Assert.InRange(rle.Area, 45, 60);
        var (x, y, w, h) = rle.ToBbox();
        Assert.Equal((0.0, 0.0), (x, y));
        Assert.InRange(w, 9, 10);
        Assert.InRange(h, 9, 10);
    }

    [Fact]
    public void InvalidRlesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new Rle(2, 2, [1, 2]));            // covers 3 of 4 pixels
        Assert.Throws<FormatException>(() => Rle.FromCompressedString("1{", 2, 2));        // '{' is outside the alphabet
        Assert.Throws<ArgumentException>(() => Rle.FromCompressedString("13", 3, 3));      // covers 4 of 9 pixels
        Assert.Throws<ArgumentException>(() => Rle.Merge([new Rle(1, 1, [1]), new Rle(1, 2, [2])]));
    }

    [Fact]
    public void PolygonsCoverThePixelCentresInside()
    {
        // rleFrPoly approximates "pixel centre inside the polygon" (its boundary is rounded to 1/5 pixel): compare with
        // an exact even-odd test on convex and concave polygons with fractional vertices; only boundary pixels may differ.
        double[][] polygons =
        [
            [1.3, 1.7, 17.2, 2.9, 14.8, 15.6, 3.1, 12.4],
            [2.3, 2.2, 18.7, 2.6, 18.4, 18.3, 10.2, 8.1, 2.6, 18.7],
            [0, 0, 20, 0, 0, 20],
        ];
        foreach (var poly in polygons)
        {
            var rle = PolygonRasterizer.ToRle(poly, 22, 21);
            var mask = rle.Decode();
            int inside = 0, differ = 0;
            for (int y = 0; y < 22; y++)
                for (int x = 0; x < 21; x++)
                {
                    bool want = Inside(poly, x + 0.5, y + 0.5);
                    if (want) inside++;
                    if (want != (mask[y * 21 + x] != 0)) differ++;
                }
            Assert.True(differ <= inside / 10, $"polygon {string.Join(",", poly)}: {differ} of {inside} pixels differ, area {rle.Area}");
        }
    }

    private static bool Inside(double[] poly, double px, double py)
    {
        bool c = false;
        int n = poly.Length / 2;
        for (int i = 0, j = n - 1; i < n; j = i++)
        {
            double xi = poly[2 * i], yi = poly[2 * i + 1], xj = poly[2 * j], yj = poly[2 * j + 1];
            if ((yi > py) != (yj > py) && px < (xj - xi) * (py - yi) / (yj - yi) + xi) c = !c;
        }
        return c;
    }

    [SharedDataFact]
    public void TinyCocoSegmentationsRasteriseConsistentlyWithTheirBoxes()
    {
        // The crowd RLE decodes (numpy check) to columns 0..481 and rows 35..185, 7378 pixels: toBbox gives
        // [0, 35, 482, 151] (COCO's own bbox field says 481×150, one less); every rasterised polygon lies inside its box (clipped to the image, ±1 px) and has close to the
        // polygon area (thin spikes end where they become narrower than a pixel, so boxes may shrink, never grow).
        var gt = CocoGroundTruth.Load(SharedData.Path("tiny-coco/instances_train2017_small.json"));
        int polygons = 0;
        foreach (var a in gt.Annotations)
        {
            var image = gt.GetImage(a.ImageId);
            var rle = a.Segmentation!.ToRle(image.Height, image.Width);
            var (x, y, w, h) = rle.ToBbox();
            if (a.IsCrowd)
            {
                Assert.Equal((0.0, 35.0, 482.0, 151.0), (x, y, w, h));
                Assert.Equal(7378, rle.Area);
                continue;
            }
            polygons++;
            double right = Math.Min(a.X + a.Width, image.Width), bottom = Math.Min(a.Y + a.Height, image.Height);
            Assert.True(x >= a.X - 1 && y >= a.Y - 1 && x + w <= right + 1 && y + h <= bottom + 1,
                $"annotation {a.Id}: mask box ({x}, {y}, {w}, {h}) vs bbox ({a.X}, {a.Y}, {a.Width}, {a.Height})");
            if (a.Area > 200)
                Assert.InRange(rle.Area / a.Area, 0.85, 1.15);
        }
        Assert.Equal(196, polygons);
    }
}
