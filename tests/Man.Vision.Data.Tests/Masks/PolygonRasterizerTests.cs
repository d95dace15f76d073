using Man.Vision.Data.Masks;

namespace Man.Vision.Data.Tests.Masks;

public sealed class PolygonRasterizerTests
{
    [Theory]
    [InlineData(0, 0, 10, 10)]
    [InlineData(3, 2, 7, 5)]
    [InlineData(1, 4, 1, 9)]
    public void Integer_rectangles_cover_exactly_their_pixels(int x, int y, int w, int h)
    {
        var rle = PolygonRasterizer.ToRle([x, y, x + w, y, x + w, y + h, x, y + h], 20, 20);
        var m = rle.Decode();
        for (int yy = 0; yy < 20; yy++)
            for (int xx = 0; xx < 20; xx++)
            {
                bool inside = xx >= x && xx < x + w && yy >= y && yy < y + h;
                Assert.True((m[yy * 20 + xx] == 1) == inside, $"pixel ({xx}, {yy}) inside={inside}");
            }
        Assert.Equal(w * h, rle.Area);
        Assert.Equal(rle, PolygonRasterizer.FromBbox(x, y, w, h, 20, 20));
    }

    [Fact]
    public void Triangle_raster_counts_pixel_centres_below_the_hypotenuse()
    {
        // Right triangle (0,0)-(40,0)-(0,40): pixel (x, y) has its centre inside when x + y + 1 < 40,
        // plus the centres exactly on the hypotenuse that the rounding keeps. Area must be near 800.
        var rle = PolygonRasterizer.ToRle([0, 0, 40, 0, 0, 40], 50, 50);
        Assert.InRange(rle.Area, 780, 840);
        var m = rle.Decode();
        Assert.Equal(1, m[0]);
        Assert.Equal(1, m[10 * 50 + 10]);
        Assert.Equal(0, m[30 * 50 + 30]);
        Assert.Equal(0, m[45 * 50 + 1]);
    }

    [Fact]
    public void Polygon_outside_the_image_is_cut_off()
    {
        var rle = PolygonRasterizer.ToRle([-10, -10, 5, -10, 5, 5, -10, 5], 10, 10);
        Assert.Equal(25, rle.Area);
    }

    [Fact]
    public void Shoelace_area_of_a_square()
    {
        Assert.Equal(12.0, PolygonRasterizer.ShoelaceArea([1, 1, 5, 1, 5, 4, 1, 4]), 9);
    }
}
