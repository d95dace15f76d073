using System.Runtime.CompilerServices;
using Man.Testing;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Images;
using Man.Vision.Data.Segmentation;

namespace Man.Vision.Data.Tests.Segmentation;

public sealed class PngCodecTests
{
    private static string Fixture(string name, [CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "Fixtures", name);

    private static int Value(int x, int y, int m) => (7 * x + 13 * y) % m;

    [Theory]
    [InlineData("palette8.png", 3, 8, 21)]
    [InlineData("palette4.png", 3, 4, 16)]
    [InlineData("gray1.png", 0, 1, 2)]
    [InlineData("gray16.png", 0, 16, 1000)]
    [InlineData("palette8_adam7.png", 3, 8, 21)]
    public void Reads_the_stored_samples_of_pil_written_pngs(string file, int colorType, int depth, int modulus)
    {
        // Fixtures from Fixtures/make_png_fixtures.py: value(x, y) = (7x + 13y) % modulus, 37x23.
        var png = PngCodec.Read(Fixture(file));
        Assert.Equal((37, 23, colorType, depth, 1), (png.Width, png.Height, png.ColorType, png.BitDepth, png.Channels));
        for (int y = 0; y < 23; y++)
            for (int x = 0; x < 37; x++)
            {
                int expected = Value(x, y, modulus);
                if (file == "gray1.png") expected = expected == 1 ? 1 : 0;
                Assert.Equal(expected, png.Samples[y * 37 + x]);
            }
    }

    [Fact]
    public void Decodes_skia_encoded_rgb_exactly()
    {
        // libpng (through SkiaSharp) picks adaptive row filters: every filter type gets exercised.
        var rng = new Random(5);
        int w = 61, h = 40;
        var px = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    px[(y * w + x) * 3 + c] = (byte)(c == 0 ? x * 4 : c == 1 ? (x + y) * 3 : rng.Next(256));
        var bytes = ImageEncoder.Encode(new RgbImage(w, h, px), ImageFormat.Png);
        var png = PngCodec.Decode(bytes, "mem.png");
        Assert.Equal(3, png.Channels);
        Assert.Equal(px.Select(b => (ushort)b), png.Samples);
    }

    [Fact]
    public void Written_palette_png_decodes_to_the_same_indices_and_to_palette_colours_in_skia()
    {
        using var tmp = new TempDir();
        int w = 19, h = 11;
        var idx = new byte[w * h];
        for (int i = 0; i < idx.Length; i++) idx[i] = (byte)(i * 7 % 22 == 21 ? 255 : i * 7 % 22);
        var pal = LabelEncoding.VocPalette(256);
        string path = tmp.File("l.png");
        PngCodec.WritePalette(path, idx, w, h, pal);

        var back = PngCodec.Read(path);
        Assert.True(back.IsPalette);
        Assert.Equal(idx.Select(b => (ushort)b), back.Samples);

        var rgb = ImageDecoder.Decode(path);
        for (int i = 0; i < idx.Length; i++)
            Assert.Equal((pal[3 * idx[i]], pal[3 * idx[i] + 1], pal[3 * idx[i] + 2]), rgb[i % w, i / w]);
    }

    [SharedDataFact]
    public void CamVid_label_decodes_like_skia()
    {
        string path = SharedData.Path("camvid/trainannot/0001TP_006690.png");
        var png = PngCodec.Read(path);
        var rgb = ImageDecoder.Decode(path);
        Assert.Equal((rgb.Width, rgb.Height), (png.Width, png.Height));
        for (int i = 0; i < png.Samples.Length; i++) Assert.Equal(rgb.Pixels[3 * i], png.Samples[i]);
    }

    [Fact]
    public void Truncated_and_corrupt_pngs_name_the_file_and_problem()
    {
        using var tmp = new TempDir();
        var good = File.ReadAllBytes(Fixture("palette8.png"));

        string trunc = tmp.File("trunc.png");
        File.WriteAllBytes(trunc, good[..(good.Length / 2)]);
        var e1 = Assert.Throws<BadInputException>(() => PngCodec.Read(trunc));
        Assert.Contains("trunc.png", e1.Message);
        Assert.Contains("truncated", e1.Message);

        string crc = tmp.File("crc.png");
        var bad = (byte[])good.Clone();
        bad[40] ^= 0xFF; // inside the PLTE or IDAT payload
        File.WriteAllBytes(crc, bad);
        var e2 = Assert.Throws<BadInputException>(() => PngCodec.Read(crc));
        Assert.Contains("CRC mismatch", e2.Message);

        string jpg = tmp.File("label.png");
        File.WriteAllBytes(jpg, ImageEncoder.Encode(new RgbImage(4, 4, new byte[48]), ImageFormat.Jpeg));
        var e3 = Assert.Throws<BadInputException>(() => PngCodec.Read(jpg));
        Assert.Contains("not a PNG", e3.Message);
    }
}
