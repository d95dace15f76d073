using Man.Vision.Data.Images;
using SkiaSharp;

namespace Man.Vision.Detection.Inference;

/// <summary>
/// Draws detections onto an image with SkiaSharp: a coloured box per detection (colour by class) and a filled tag with
/// "label score". Text uses the system's default typeface when it has glyphs (or DejaVu/Liberation/FreeSans when
/// installed), otherwise a built-in 3×5 pixel font, so that labels appear on every machine.
/// </summary>
public static class BoxPainter
{
    private static readonly SKColor[] Palette =
    [
        new(230, 25, 75), new(60, 180, 75), new(255, 225, 25), new(0, 130, 200), new(245, 130, 48), new(145, 30, 180),
        new(70, 240, 240), new(240, 50, 230), new(210, 245, 60), new(250, 190, 212), new(0, 128, 128), new(220, 190, 255),
    ];

    private static readonly Lazy<SKTypeface?> Typeface = new(FindTypeface);

    /// <summary>The colour of a class label.</summary>
    public static SKColor ColorOf(long label) => Palette[(int)(label % Palette.Length)];

    /// <summary>Draws the boxes and writes a PNG (or JPEG by extension) to <paramref name="path"/>.</summary>
    /// <param name="image">The image.</param>
    /// <param name="boxes">Boxes <c>[N, 4]</c> flattened, xyxy in the image's pixels.</param>
    /// <param name="labels">Labels <c>[N]</c> (colour).</param>
    /// <param name="captions">Text of each box, e.g. "dog 0.93".</param>
    /// <param name="path">Output file.</param>
    public static void Save(RgbImage image, float[] boxes, long[] labels, IReadOnlyList<string> captions, string path)
    {
        if (boxes.Length != 4 * labels.Length || captions.Count != labels.Length)
            throw new ArgumentException($"{labels.Length} labels need {4 * labels.Length} box values and as many captions (got {boxes.Length} and {captions.Count}).");
        using var bitmap = ToBitmap(image);
        using (var canvas = new SKCanvas(bitmap))
        {
            float scale = Math.Max(1f, Math.Min(image.Width, image.Height) / 400f);
            using var stroke = new SKPaint { Style = SKPaintStyle.Stroke, StrokeWidth = 2 * scale, IsAntialias = true };
            using var fill = new SKPaint { Style = SKPaintStyle.Fill };
            using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            using var font = Typeface.Value is { } tf ? new SKFont(tf, 11 * scale) : null;
            for (int i = 0; i < labels.Length; i++)
            {
                var color = ColorOf(labels[i]);
                stroke.Color = color;
                fill.Color = color;
                var rect = new SKRect(boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]);
                canvas.DrawRect(rect, stroke);
                string text = captions[i];
                if (font is not null)
                {
                    float w = font.MeasureText(text), h = font.Size * 1.25f;
                    float top = rect.Top - h >= 0 ? rect.Top - h : rect.Top;
                    canvas.DrawRect(new SKRect(rect.Left, top, rect.Left + w + 4 * scale, top + h), fill);
                    canvas.DrawText(text, rect.Left + 2 * scale, top + font.Size, SKTextAlign.Left, font, ink);
                }
                else
                {
                    int pixel = (int)Math.Max(1, Math.Round(2 * scale));
                    float w = PixelFont.Width(text) * pixel, h = (PixelFont.Height + 2) * pixel;
                    float top = rect.Top - h >= 0 ? rect.Top - h : rect.Top;
                    canvas.DrawRect(new SKRect(rect.Left, top, rect.Left + w + 2 * pixel, top + h), fill);
                    PixelFont.Draw(canvas, text, rect.Left + pixel, top + pixel, pixel, ink);
                }
            }
        }
        using var encoded = bitmap.Encode(Path.GetExtension(path).Equals(".jpg", StringComparison.OrdinalIgnoreCase) ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png, 95)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode {path}.");
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllBytes(path, encoded.ToArray());
    }

    private static SKBitmap ToBitmap(RgbImage image)
    {
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rgba = new byte[image.Width * image.Height * 4];
        var src = image.Pixels;
        for (int i = 0, n = image.Width * image.Height; i < n; i++)
        {
            rgba[4 * i] = src[3 * i];
            rgba[4 * i + 1] = src[3 * i + 1];
            rgba[4 * i + 2] = src[3 * i + 2];
            rgba[4 * i + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        return bitmap;
    }

    private static SKTypeface? FindTypeface()
    {
        static bool HasGlyphs(SKTypeface? tf)
        {
            if (tf is null) return false;
            using var font = new SKFont(tf, 12);
            return font.GetGlyphs("ab1").All(g => g != 0);
        }
        if (HasGlyphs(SKTypeface.Default)) return SKTypeface.Default;
        foreach (var file in new[]
                 {
                     "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
                     "/usr/share/fonts/truetype/freefont/FreeSans.ttf", "/Library/Fonts/Arial.ttf", @"C:\Windows\Fonts\arial.ttf",
                 })
        {
            if (!File.Exists(file)) continue;
            var tf = SKTypeface.FromFile(file);
            if (HasGlyphs(tf)) return tf;
            tf?.Dispose();
        }
        return null;
    }
}
