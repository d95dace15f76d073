using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Man.Testing;
using Man.Vision.Segmentation.IO;
using Man.Vision.Segmentation.Tests.Support;
using SkiaSharp;

namespace Man.Vision.Segmentation.Tests.IO;

public sealed class LabelPngTests
{
    [Theory]
    [InlineData("label_gray8.png", "labels")]
    [InlineData("label_palette8.png", "labels")]
    [InlineData("label_palette4.png", "labels_mod16")]
    [InlineData("label_gray16.png", "labels")]
    public void Pillow_pngs_give_their_raw_values(string file, string key)
    {
        // Written by Pillow (generate_fixtures.py): greyscale levels and palette indices, never colours.
        var json = Fixtures.Json("png/labels.json");
        byte[] expected = json[key]!.Select(v => (byte)(int)v).ToArray();
        ClassMap map = LabelPng.Read(Fixtures.Path("png/" + file));
        Assert.Equal(37, map.Width);
        Assert.Equal(23, map.Height);
        Assert.Equal(expected, map.Pixels);
        if (key == "labels") Assert.Contains((byte)255, map.Pixels); // the ignore value survives
    }

    [Fact]
    public void Colour_pngs_are_rejected_naming_the_file()
    {
        string path = Fixtures.Path("png/label_rgb.png");
        var e = Assert.Throws<InvalidDataException>(() => LabelPng.Read(path));
        Assert.Contains("label_rgb.png", e.Message);
        Assert.Contains("RGB", e.Message);
    }

    [Fact]
    public void Encode_then_decode_round_trips()
    {
        var rng = new Random(5);
        var pixels = new byte[61 * 17];
        rng.NextBytes(pixels);
        var map = new ClassMap(61, 17, pixels);
        Assert.Equal(pixels, LabelPng.Decode(LabelPng.Encode(map)).Pixels);
    }

    [Fact]
    public void All_five_row_filters_are_undone()
    {
        // A PNG written by the test's own encoder, row y filtered with type y % 5 (None, Sub, Up, Average, Paeth).
        var rng = new Random(9);
        int w = 29, h = 11;
        var pixels = new byte[w * h];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(rng.Next(0, 4) * 60 + (i % 7));
        Assert.Equal(pixels, LabelPng.Decode(FilteredPng(pixels, w, h)).Pixels);
    }

    [Fact]
    public void Corrupt_files_are_rejected()
    {
        byte[] png = LabelPng.Encode(new ClassMap(8, 8, new byte[64]));
        byte[] flipped = (byte[])png.Clone();
        flipped[png.Length - 20] ^= 0x55; // inside IDAT
        Assert.Contains("CRC", Assert.Throws<InvalidDataException>(() => LabelPng.Decode(flipped)).Message);
        Assert.Contains("signature", Assert.Throws<InvalidDataException>(() => LabelPng.Decode(Encoding.ASCII.GetBytes("GIF89a not a png"))).Message);
        Assert.Throws<InvalidDataException>(() => LabelPng.Decode(png.AsSpan(0, 40)));
        Assert.Throws<FileNotFoundException>(() => LabelPng.Read("/nonexistent/label.png"));
    }

    [SharedDataFact]
    public void CamVid_labels_equal_SkiaSharp_gray8_decoding()
    {
        string dir = SharedData.Path("camvid/valannot");
        foreach (string file in Directory.EnumerateFiles(dir, "*.png").Order(StringComparer.Ordinal).Take(3))
        {
            ClassMap map = LabelPng.Read(file);
            using var bitmap = SKBitmap.Decode(file);
            using var gray = new SKBitmap(new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Gray8, SKAlphaType.Opaque));
            Assert.True(bitmap.CopyTo(gray, SKColorType.Gray8));
            Assert.Equal(480, map.Width);
            Assert.Equal(360, map.Height);
            Assert.Equal(gray.GetPixelSpan().ToArray(), map.Pixels);
            Assert.True(map.Pixels.Max() <= 11);
        }
    }

    private static byte[] FilteredPng(byte[] pixels, int w, int h)
    {
        var raw = new MemoryStream();
        for (int y = 0; y < h; y++)
        {
            int type = y % 5;
            raw.WriteByte((byte)type);
            for (int x = 0; x < w; x++)
            {
                int cur = pixels[y * w + x];
                int a = x > 0 ? pixels[y * w + x - 1] : 0;
                int b = y > 0 ? pixels[(y - 1) * w + x] : 0;
                int c = x > 0 && y > 0 ? pixels[(y - 1) * w + x - 1] : 0;
                int predictor = type switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    _ => PaethPredictor(a, b, c),
                };
                raw.WriteByte((byte)(cur - predictor));
            }
        }
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true)) zs.Write(raw.ToArray());
        var png = new MemoryStream();
        png.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
        ihdr[8] = 8;
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", z.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static int PaethPredictor(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc) return a;
        return pb <= pc ? b : c;
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        var buf = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(buf, data.Length);
        s.Write(buf);
        s.Write(typeAndData);
        // Bitwise CRC-32 (polynomial 0xEDB88320), independent of the library's table-driven one.
        uint crc = 0xFFFFFFFF;
        foreach (byte v in typeAndData)
        {
            crc ^= v;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        BinaryPrimitives.WriteUInt32BigEndian(buf, ~crc);
        s.Write(buf);
    }
}
