using Man.Vision.Data.Masks;

namespace Man.Vision.Data.Tests.Masks;

public sealed class RleTests
{
    [Fact]
    public void Encode_reads_column_major_and_starts_with_a_background_run()
    {
        // 2x3 mask, row-major:
        // 1 0 1
        // 1 0 0
        byte[] m = [1, 0, 1, 1, 0, 0];
        var rle = Rle.Encode(m, 2, 3);
        Assert.Equal(new uint[] { 0, 2, 2, 1, 1 }, rle.Counts);
        Assert.Equal(3, rle.Area);
        Assert.Equal(m, rle.Decode());
    }

    [Fact]
    public void Compressed_string_matches_hand_computed_coco_encoding()
    {
        // 5 -> '5', 3 -> '3', 10 -> ':' (the first three counts are absolute), then 7 - 3 = 4 -> '4', 1 - 10 = -9 -> 'G'.
        var rle = new Rle(26, 1, [5, 3, 10, 7, 1]);
        Assert.Equal("53:4G", rle.ToCompressedString());
        var back = Rle.FromCompressedString("53:4G", 26, 1);
        Assert.Equal(rle.Counts, back.Counts);
    }

    [Fact]
    public void Compressed_string_round_trips_large_counts()
    {
        var rng = new Random(3);
        var counts = Enumerable.Range(0, 200).Select(_ => (uint)rng.Next(0, 5000)).ToArray();
        long total = counts.Sum(c => (long)c);
        var rle = new Rle((int)total, 1, counts);
        var back = Rle.FromCompressedString(rle.ToCompressedString(), (int)total, 1);
        Assert.Equal(counts, back.Counts);
    }

    [Fact]
    public void Bad_compressed_strings_are_rejected_with_the_position()
    {
        var e = Assert.Throws<FormatException>(() => Rle.FromCompressedString("53~", 26, 1));
        Assert.Contains("at 2", e.Message);
        Assert.Throws<FormatException>(() => Rle.FromCompressedString("5P", 26, 1)); // 'P' has the continuation bit and nothing follows
        var sum = Assert.Throws<ArgumentException>(() => Rle.FromCompressedString("53", 26, 1));
        Assert.Contains("add up to 8", sum.Message);
    }

    [Fact]
    public void ToBbox_and_merge_agree_with_the_pixels()
    {
        var a = new byte[6 * 5];
        var b = new byte[6 * 5];
        a[1 * 5 + 1] = a[2 * 5 + 1] = 1;          // column 1, rows 1-2
        b[4 * 5 + 3] = 1;                          // (3, 4)
        var ra = Rle.Encode(a, 6, 5);
        var rb = Rle.Encode(b, 6, 5);
        Assert.Equal((1d, 1d, 1d, 2d), ra.ToBbox());
        var u = Rle.Merge([ra, rb]);
        Assert.Equal(3, u.Area);
        Assert.Equal((1d, 1d, 3d, 4d), u.ToBbox());
        Assert.Equal(0, Rle.Merge([ra, rb], intersect: true).Area);
        Assert.Equal((0d, 0d, 0d, 0d), Rle.Empty(6, 5).ToBbox());
    }

    [Fact]
    public void Equality_ignores_empty_runs()
    {
        Assert.Equal(new Rle(2, 2, [1, 2, 0, 0, 1]), new Rle(2, 2, [1, 2, 1]));
        Assert.NotEqual(new Rle(2, 2, [1, 2, 1]), new Rle(2, 2, [2, 2]));
    }
}
