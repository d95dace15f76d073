using System.Runtime.InteropServices;
using Man.Vision.Data.Images;
using Man.Vision.Data.Records;
using Man.Vision.Data.Segmentation;
using SkiaSharp;

namespace Man.Vision.Data.Stats;

/// <summary>Renders a png grid of samples with their boxes, masks or label maps drawn (SkiaSharp), to look at a data set.</summary>
public static class SampleGrid
{
    /// <summary>
    /// Draws the first <paramref name="count"/> images of <paramref name="dataset"/> (or a seeded random choice when
    /// <paramref name="seed"/> is given) in a grid of <paramref name="columns"/> columns, each image fitted into a
    /// <paramref name="cell"/>-pixel square, with masks filled half-transparent, boxes outlined in the class colour,
    /// crowd boxes dashed, and class names written above the boxes.
    /// </summary>
    public static void Render(DetectionDataset dataset, string pngPath, int count = 16, int columns = 4, int cell = 256, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var indices = Choose(dataset.Images.Count, count, seed);
        DrawGrid(pngPath, indices.Length, columns, cell, (canvas, k, rect) =>
        {
            var rec = dataset.Images[indices[k]];
            var rgb = ImageDecoder.Decode(rec.FilePath, dataset.Log);
            float s = DrawImage(canvas, rgb, rect);
            canvas.Save();
            canvas.Translate(rect.Left, rect.Top);
            canvas.Scale(s);
            foreach (var o in rec.Objects)
            {
                var colour = ClassColour(o.Label);
                if (o.Mask is not null)
                    DrawMask(canvas, o.Mask.Rasterize(rec.Height, rec.Width), rec.Width, rec.Height, colour.WithAlpha(110));
                using var stroke = new SKPaint { Style = SKPaintStyle.Stroke, Color = colour, StrokeWidth = 2 / s, IsAntialias = true };
                if (o.IsCrowd) stroke.PathEffect = SKPathEffect.CreateDash([6 / s, 4 / s], 0);
                canvas.DrawRect((float)o.Box.X1, (float)o.Box.Y1, (float)o.Box.Width, (float)o.Box.Height, stroke);
                using var font = new SKFont(SKTypeface.Default, 12 / s);
                using var fill = new SKPaint { Color = colour, IsAntialias = true };
                canvas.DrawText(dataset.Categories.NameOf(o.Label) + (o.Difficult ? "*" : ""), (float)o.Box.X1 + 1 / s, (float)o.Box.Y1 - 2 / s, SKTextAlign.Left, font, fill);
            }
            canvas.Restore();
        });
    }

    /// <summary>Draws segmentation samples with their label maps blended over the image (ignore pixels left clear).</summary>
    public static void Render(SegmentationDataset dataset, string pngPath, int count = 16, int columns = 4, int cell = 256, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var indices = Choose(dataset.Samples.Count, count, seed);
        DrawGrid(pngPath, indices.Length, columns, cell, (canvas, k, rect) =>
        {
            var rec = dataset.Samples[indices[k]];
            var rgb = ImageDecoder.Decode(rec.ImagePath, dataset.Log);
            var labels = LabelReader.Read(rec.LabelPath, dataset.Encoding, dataset.Log, outOfRangeAsIgnore: true);
            float s = DrawImage(canvas, rgb, rect);
            canvas.Save();
            canvas.Translate(rect.Left, rect.Top);
            canvas.Scale(s);
            var rgba = new byte[labels.Width * labels.Height * 4];
            for (int p = 0; p < labels.Ids.Length; p++)
            {
                int id = labels.Ids[p];
                if (id == LabelEncoding.Ignore) continue;
                var c = ClassColour(id + 1);
                rgba[4 * p] = c.Red; rgba[4 * p + 1] = c.Green; rgba[4 * p + 2] = c.Blue; rgba[4 * p + 3] = 255;
            }
            using var overlay = ToImage(rgba, labels.Width, labels.Height, SKAlphaType.Unpremul);
            using var paint = new SKPaint { Color = SKColors.White.WithAlpha(120) };
            canvas.DrawImage(overlay, 0, 0, paint);
            canvas.Restore();
        });
    }

    /// <summary>A distinct colour per label (golden-ratio hues).</summary>
    public static SKColor ClassColour(int label) => SKColor.FromHsv((float)(label * 137.508 % 360), 85, 95);

    private static int[] Choose(int n, int count, int? seed)
    {
        count = Math.Min(count, n);
        if (seed is null) return Enumerable.Range(0, count).ToArray();
        var idx = Enumerable.Range(0, n).ToArray();
        new Random(seed.Value).Shuffle(idx);
        return idx[..count];
    }

    private static void DrawGrid(string path, int n, int columns, int cell, Action<SKCanvas, int, SKRect> drawCell)
    {
        if (n == 0) throw new ArgumentException("The data set has no samples to draw.");
        if (columns < 1 || cell < 16) throw new ArgumentException("The grid needs at least one column and cells of 16 px or more.");
        int cols = Math.Min(columns, n), rows = (n + cols - 1) / cols, gap = 4;
        var info = new SKImageInfo(cols * (cell + gap) + gap, rows * (cell + gap) + gap, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var surface = SKSurface.Create(info);
        var canvas = surface.Canvas;
        canvas.Clear(new SKColor(30, 30, 30));
        for (int k = 0; k < n; k++)
        {
            var rect = SKRect.Create(gap + k % cols * (cell + gap), gap + k / cols * (cell + gap), cell, cell);
            canvas.Save();
            canvas.ClipRect(rect);
            drawCell(canvas, k, rect);
            canvas.Restore();
        }
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllBytes(path, data.ToArray());
    }

    private static float DrawImage(SKCanvas canvas, RgbImage rgb, SKRect rect)
    {
        var rgba = new byte[rgb.Width * rgb.Height * 4];
        for (int p = 0; p < rgb.Width * rgb.Height; p++)
        {
            rgba[4 * p] = rgb.Pixels[3 * p];
            rgba[4 * p + 1] = rgb.Pixels[3 * p + 1];
            rgba[4 * p + 2] = rgb.Pixels[3 * p + 2];
            rgba[4 * p + 3] = 255;
        }
        using var img = ToImage(rgba, rgb.Width, rgb.Height, SKAlphaType.Opaque);
        float s = Math.Min(rect.Width / rgb.Width, rect.Height / rgb.Height);
        using var paint = new SKPaint();
        canvas.DrawImage(img, SKRect.Create(rect.Left, rect.Top, rgb.Width * s, rgb.Height * s), new SKSamplingOptions(SKFilterMode.Linear), paint);
        return s;
    }

    private static void DrawMask(SKCanvas canvas, byte[] mask, int w, int h, SKColor colour)
    {
        var rgba = new byte[w * h * 4];
        for (int p = 0; p < mask.Length; p++)
        {
            if (mask[p] == 0) continue;
            rgba[4 * p] = colour.Red; rgba[4 * p + 1] = colour.Green; rgba[4 * p + 2] = colour.Blue; rgba[4 * p + 3] = colour.Alpha;
        }
        using var img = ToImage(rgba, w, h, SKAlphaType.Unpremul);
        canvas.DrawImage(img, 0, 0);
    }

    private static SKImage ToImage(byte[] rgba, int w, int h, SKAlphaType alpha)
    {
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, alpha);
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            using var pixmap = new SKPixmap(info, handle.AddrOfPinnedObject(), w * 4);
            return SKImage.FromPixelCopy(pixmap);
        }
        finally
        {
            handle.Free();
        }
    }
}
