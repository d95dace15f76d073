using Man.Testing;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Images;
using SkiaSharp;

namespace Man.Vision.Data.Tests.Images;

public sealed class ImageDecoderTests
{
    [Fact]
    public void Png_rgb_decodes_exact_pixels()
    {
        var rgba = TestImages.Rgba(5, 4, (_, _) => 255);
        var png = TestImages.Encode(rgba, 5, 4, SKColorType.Rgba8888, SKAlphaType.Opaque, SKEncodedImageFormat.Png);
        var log = new BadInputLog();
        var img = ImageDecoder.Decode(png, "a.png", log);
        Assert.Equal(5, img.Width);
        Assert.Equal(4, img.Height);
        Assert.Equal(ImageFormat.Png, img.Original!.Format);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 5; x++)
                Assert.Equal(((byte)(10 * x), (byte)(20 * y), (byte)(7 * (x + y))), img[x, y]);
        Assert.True(log.IsEmpty, log.ToString());
    }

    [Fact]
    public void Jpeg_decodes_close_to_the_source()
    {
        // A flat colour survives JPEG almost exactly (quality 100, no edges).
        var rgba = new byte[16 * 16 * 4];
        for (int i = 0; i < 256; i++) { rgba[i * 4] = 200; rgba[i * 4 + 1] = 100; rgba[i * 4 + 2] = 50; rgba[i * 4 + 3] = 255; }
        var jpg = TestImages.Encode(rgba, 16, 16, SKColorType.Rgba8888, SKAlphaType.Opaque, SKEncodedImageFormat.Jpeg, 100);
        var img = ImageDecoder.Decode(jpg, "flat.jpg");
        Assert.Equal(ImageFormat.Jpeg, img.Original!.Format);
        Assert.False(img.Original.ExtensionMismatch);
        for (int i = 0; i < img.Pixels.Length; i += 3)
        {
            Assert.InRange(img.Pixels[i], 198, 202);
            Assert.InRange(img.Pixels[i + 1], 98, 102);
            Assert.InRange(img.Pixels[i + 2], 48, 52);
        }
    }

    [Fact]
    public void Grayscale_png_is_replicated_to_rgb_and_counted()
    {
        var gray = new byte[6 * 3];
        for (int i = 0; i < gray.Length; i++) gray[i] = (byte)(i * 13);
        var png = TestImages.Encode(gray, 6, 3, SKColorType.Gray8, SKAlphaType.Opaque, SKEncodedImageFormat.Png);
        var log = new BadInputLog();
        var img = ImageDecoder.Decode(png, "g.png", log);
        Assert.Equal(ImageColorModel.Gray, img.Original!.ColorModel);
        for (int i = 0; i < gray.Length; i++)
        {
            Assert.Equal(gray[i], img.Pixels[i * 3]);
            Assert.Equal(gray[i], img.Pixels[i * 3 + 1]);
            Assert.Equal(gray[i], img.Pixels[i * 3 + 2]);
        }
        Assert.Equal(1, log.Count(ImageDecoder.GrayToRgbKind, BadInputAction.Repaired));
    }

    [Fact]
    public void Rgba_png_drops_alpha_keeping_unpremultiplied_colours()
    {
        // alpha varies, including fully transparent pixels: PIL's convert("RGB") keeps the stored colours.
        var rgba = TestImages.Rgba(4, 4, (x, y) => (byte)(x == 0 ? 0 : 60 * y + 10));
        var png = TestImages.Encode(rgba, 4, 4, SKColorType.Rgba8888, SKAlphaType.Unpremul, SKEncodedImageFormat.Png);
        var log = new BadInputLog();
        var img = ImageDecoder.Decode(png, "rgba.png", log);
        Assert.True(img.Original!.HasAlpha);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
                Assert.Equal(((byte)(10 * x), (byte)(20 * y), (byte)(7 * (x + y))), img[x, y]);
        Assert.Equal(1, log.Count(ImageDecoder.AlphaDroppedKind, BadInputAction.Repaired));
    }

    [Fact]
    public void Palette_png_is_looked_up_to_rgb()
    {
        var palette = new (byte, byte, byte)[] { (0, 0, 0), (128, 0, 0), (0, 128, 0), (192, 128, 64) };
        var idx = new byte[] { 0, 1, 2, 3, 3, 2, 1, 0 };
        var png = TestImages.PalettePng(4, 2, idx, palette);
        var log = new BadInputLog();
        var img = ImageDecoder.Decode(png, "pal.png", log);
        Assert.Equal(ImageColorModel.Palette, img.Original!.ColorModel);
        Assert.False(img.Original.HasAlpha);
        for (int i = 0; i < idx.Length; i++)
            Assert.Equal(palette[idx[i]], img[i % 4, i / 4]);
        Assert.Equal(1, log.Count(ImageDecoder.PaletteToRgbKind, BadInputAction.Repaired));
    }

    [Fact]
    public void Png_saved_as_jpg_decodes_and_the_lie_is_recorded()
    {
        using var dir = new TempDir();
        var rgba = TestImages.Rgba(3, 3, (_, _) => 255);
        string path = dir.File("liar.jpg");
        File.WriteAllBytes(path, TestImages.Encode(rgba, 3, 3, SKColorType.Rgba8888, SKAlphaType.Opaque, SKEncodedImageFormat.Png));
        var log = new BadInputLog();
        var img = ImageDecoder.Decode(path, log);
        Assert.Equal(ImageFormat.Png, img.Original!.Format);
        Assert.True(img.Original.ExtensionMismatch);
        Assert.Equal((20, 40, 28), ((int)img[2, 2].R, (int)img[2, 2].G, (int)img[2, 2].B));
        Assert.Equal(path, img.Source);
        var summary = Assert.Single(log.Summaries());
        Assert.Equal(ImageDecoder.ExtensionMismatchKind, summary.Kind);
        Assert.Contains("liar.jpg", summary.Examples[0]);
        Assert.Contains("Png", summary.Examples[0]);
        Assert.True(ImageDecoder.ReadHeader(path).ExtensionMismatch);
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png)]
    [InlineData(SKEncodedImageFormat.Jpeg)]
    public void Truncated_image_error_names_the_file(SKEncodedImageFormat format)
    {
        using var dir = new TempDir();
        var rng = new Random(1);
        var rgba = new byte[64 * 64 * 4];
        rng.NextBytes(rgba);
        for (int i = 3; i < rgba.Length; i += 4) rgba[i] = 255;
        var bytes = TestImages.Encode(rgba, 64, 64, SKColorType.Rgba8888, SKAlphaType.Opaque, format, 90);
        string path = dir.File(format == SKEncodedImageFormat.Png ? "cut.png" : "cut.jpg");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Assert.Equal(ImageDecodeException.TruncatedKind, e.Kind);
        Assert.Equal(path, e.File);
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Missing_empty_and_non_image_files_give_clear_errors()
    {
        using var dir = new TempDir();
        string missing = dir.File("nope.png");
        var e1 = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(missing));
        Assert.Equal(ImageDecodeException.MissingKind, e1.Kind);
        Assert.Contains("nope.png", e1.Message);

        string empty = dir.File("empty.jpg");
        File.WriteAllBytes(empty, []);
        var e2 = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(empty));
        Assert.Equal(ImageDecodeException.NotAnImageKind, e2.Kind);
        Assert.Contains("empty.jpg", e2.Message);
        Assert.Contains("empty", e2.Problem);

        string text = dir.File("text.png");
        File.WriteAllText(text, "<?xml version=\"1.0\"?><a/>");
        var e3 = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(text));
        Assert.Equal(ImageDecodeException.NotAnImageKind, e3.Kind);
        Assert.Contains("text.png", e3.Message);
        Assert.Contains("3C3F786D", e3.Message);

        string header = dir.File("header.png");
        File.WriteAllBytes(header, [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]);
        var e4 = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(header));
        Assert.Equal(ImageDecodeException.CorruptKind, e4.Kind);
        Assert.Contains("Png", e4.Message);
    }

    [Fact]
    public void DecodeInto_checks_the_size()
    {
        var png = TestImages.Encode(TestImages.Rgba(3, 2, (_, _) => 255), 3, 2, SKColorType.Rgba8888, SKAlphaType.Opaque, SKEncodedImageFormat.Png);
        var dst = new byte[18];
        ImageDecoder.DecodeInto(png, "x.png", dst, 3, 2);
        Assert.Equal(ImageDecoder.Decode(png, "x.png").Pixels, dst);
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.DecodeInto(png, "x.png", new byte[27], 3, 3));
        Assert.Contains("3x2", e.Message);
    }

    [Fact]
    public void Grayscale_jpeg_is_detected_and_replicated()
    {
        var gray = Enumerable.Repeat((byte)90, 16 * 16).ToArray();
        var jpg = TestImages.Encode(gray, 16, 16, SKColorType.Gray8, SKAlphaType.Opaque, SKEncodedImageFormat.Jpeg, 100);
        var log = new BadInputLog();
        var img = ImageDecoder.Decode(jpg, "g.jpg", log);
        Assert.Equal(ImageColorModel.Gray, img.Original!.ColorModel);
        Assert.All(img.Pixels, p => Assert.InRange(p, 89, 91));
        for (int i = 0; i < img.Pixels.Length; i += 3)
            Assert.True(img.Pixels[i] == img.Pixels[i + 1] && img.Pixels[i + 1] == img.Pixels[i + 2]);
        Assert.Equal(1, log.Count(ImageDecoder.GrayToRgbKind, BadInputAction.Repaired));
    }

    [Fact]
    public void ReadHeader_gives_the_size_without_decoding_even_when_the_pixels_are_cut()
    {
        var rgba = new byte[30 * 20 * 4];
        new Random(2).NextBytes(rgba);
        var png = TestImages.Encode(rgba, 30, 20, SKColorType.Rgba8888, SKAlphaType.Unpremul, SKEncodedImageFormat.Png);
        var h = ImageDecoder.ReadHeader(png[..(png.Length / 2)], "half.png");
        Assert.Equal(new ImageHeader(30, 20, ImageFormat.Png, ImageColorModel.Rgb, true, false), h);
    }
}
