using Man.Vision.Data.Coco;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Images;
using Man.Vision.Data.Loading;
using Man.Vision.Data.Masks;
using Man.Vision.Data.Records;
using Man.Vision.Data.Segmentation;
using Man.Vision.Data.Voc;
using SkiaSharp;

namespace Man.Vision.Data.Synthetic;

/// <summary>
/// Renders the embedded default data set: coloured shapes (<see cref="SyntheticShapes.Names"/>) of sizes from small to
/// large on textured, noisy backgrounds, with overlaps, written as COCO json (RLE masks), VOC xml and VOC-palette label
/// pngs (<see cref="SyntheticLayout"/>). Deterministic: the same seed gives the same files, and image i does not depend on n.
/// </summary>
/// <remarks>
/// Ground truth is exact: every object is rasterised (without antialiasing) into its own mask, later objects occlude
/// earlier ones, the box is the tight box of the visible mask and the area its pixel count; an object stays at least
/// <see cref="SyntheticOptions.MinVisible"/> visible. The label png holds the class of the topmost object per pixel.
/// Shapes differ in outline, not colour (colours are random with a contrast floor against the background), so a
/// detector must learn shape; at 256 px a small detector learns them in minutes of CPU training.
/// </remarks>
public static class SyntheticDataWriter
{
    private const int SeedStream = 101;

    /// <summary>Writes <paramref name="n"/> images to <paramref name="outDir"/> with the task's default options.</summary>
    public static SyntheticDataSummary Write(SyntheticTask task, string outDir, int n, int seed) =>
        Write(task, outDir, n, seed, SyntheticOptions.For(task));

    /// <summary>Writes <paramref name="n"/> images to <paramref name="outDir"/>.</summary>
    /// <exception cref="ArgumentException">n is not positive or an option is out of range.</exception>
    public static SyntheticDataSummary Write(SyntheticTask task, string outDir, int n, int seed, SyntheticOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(outDir);
        if (n <= 0) throw new ArgumentException($"The number of images must be positive, got {n}.", nameof(n));
        options.Validate();

        string root = Path.GetFullPath(outDir);
        string imageDir = SyntheticLayout.ImageDir(root);
        string labelDir = SyntheticLayout.LabelDir(root);
        Directory.CreateDirectory(imageDir);
        Directory.CreateDirectory(labelDir);
        var categories = new CategoryMap(SyntheticShapes.Names.Select((name, i) => new Category(i + 1, name, "shape")));
        var palette = LabelEncoding.VocPalette(256);

        var records = new ImageRecord[n];
        var isVal = new bool[n];
        long annId = 1;
        for (int i = 0; i < n; i++)
        {
            var rng = new Random(Seeds.Derive(seed, SeedStream, (long)task, i));
            var (rgb, objects, labels) = Render(rng, options);
            string name = (i + 1).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
            string imagePath = Path.Combine(imageDir, name + ".png");
            ImageEncoder.Save(rgb, imagePath);
            PngCodec.WritePalette(Path.Combine(labelDir, name + ".png"), labels, options.Width, options.Height, palette);
            var objs = objects.Select(o => o with { Id = annId++ }).ToArray();
            records[i] = new ImageRecord(i + 1, imagePath, options.Width, options.Height, objs) { Name = name };
            VocWriter.WriteAnnotation(root, records[i], categories);
            isVal[i] = (i * 0.6180339887498949) % 1.0 < options.ValFraction;
        }

        var splits = new Dictionary<string, List<ImageRecord>>
        {
            ["train"] = records.Where((_, i) => !isVal[i]).ToList(),
            ["val"] = records.Where((_, i) => isVal[i]).ToList(),
        };
        foreach (var (split, list) in splits)
        {
            CocoWriter.Write(SyntheticLayout.CocoJson(root, split), new DetectionDataset($"synthetic-{task.ToString().ToLowerInvariant()}:{split}", categories, list, new BadInputLog()), imageDir);
            VocWriter.WriteSplit(root, Path.Combine("ImageSets", "Main"), split, list.Select(r => r.Name));
            VocWriter.WriteSplit(root, Path.Combine("ImageSets", "Segmentation"), split, list.Select(r => r.Name));
        }
        VocWriter.WriteSplit(root, Path.Combine("ImageSets", "Main"), "trainval", records.Select(r => r.Name));
        VocWriter.WriteSplit(root, Path.Combine("ImageSets", "Segmentation"), "trainval", records.Select(r => r.Name));
        File.WriteAllLines(Path.Combine(root, VocClasses.LabelsFile), SyntheticShapes.Names);
        File.WriteAllText(Path.Combine(root, "README.txt"),
            $"Synthetic shapes data set (Man.Vision), task {task}, seed {seed}, {n} images of {options.Width}x{options.Height}.\n" +
            "Classes (label = line number): " + string.Join(", ", SyntheticShapes.Names) + "; 0 is background.\n" +
            "JPEGImages/ images (png), Annotations/ VOC xml, SegmentationClass/ VOC-palette label pngs, ImageSets/ splits,\n" +
            "coco/instances_{train,val}.json COCO instances with RLE masks, labels.txt class names.\n");

        var perClass = SyntheticShapes.Names.ToDictionary(c => c, c => records.Sum(r => r.Objects.Count(o => categories.NameOf(o.Label) == c)));
        return new SyntheticDataSummary(root, task, seed, splits["train"].Count, splits["val"].Count, records.Sum(r => r.Objects.Count), perClass);
    }

    /// <summary>Renders one image: RGB pixels, its objects (visible masks as RLE) and its label map.</summary>
    internal static (RgbImage Image, List<ObjectAnnotation> Objects, byte[] Labels) Render(Random rng, SyntheticOptions o)
    {
        int w = o.Width, h = o.Height;
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(info);
        using var canvas = new SKCanvas(bitmap);
        var (bgA, bgB) = DrawBackground(canvas, rng, w, h);

        int count = rng.NextDouble() < o.NegativeFraction ? 0 : rng.Next(o.MinObjects, o.MaxObjects + 1);
        var placed = new List<(int Label, SKPath Path, byte[] Full, int FullArea)>();
        var owner = new int[w * h]; // index+1 of the topmost object per pixel, 0 background
        for (int k = 0; k < count; k++)
        {
            for (int attempt = 0; attempt < 40; attempt++)
            {
                int label = rng.Next(1, SyntheticShapes.Names.Count + 1);
                double logSize = Math.Log(o.MinSize) + rng.NextDouble() * (Math.Log(o.MaxSize) - Math.Log(o.MinSize));
                float size = (float)Math.Exp(logSize);
                float margin = size / 2 + 1;
                float cx = margin + (float)rng.NextDouble() * Math.Max(1, w - 2 * margin);
                float cy = margin + (float)rng.NextDouble() * Math.Max(1, h - 2 * margin);
                float angle = label == 1 ? 0 : (float)(rng.NextDouble() * 60 - 30);
                var path = SyntheticShapes.Outline(label, cx, cy, size, angle);
                var mask = RasterizeMask(path, w, h);
                int area = mask.Sum(b => (int)b);
                if (area < 12) { path.Dispose(); continue; }
                // Every earlier object must stay MinVisible visible once this one covers it.
                bool ok = true;
                for (int j = 0; j < placed.Count && ok; j++)
                {
                    int visible = 0;
                    for (int p = 0; p < owner.Length; p++)
                        if (owner[p] == j + 1 && mask[p] == 0) visible++;
                    ok = visible >= o.MinVisible * placed[j].FullArea;
                }
                if (!ok) { path.Dispose(); continue; }
                for (int p = 0; p < owner.Length; p++) if (mask[p] != 0) owner[p] = placed.Count + 1;
                placed.Add((label, path, mask, area));
                break;
            }
        }

        foreach (var (label, path, _, _) in placed)
        {
            using var paint = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
            var (c1, c2) = ObjectColours(rng, bgA, bgB);
            var bounds = path.Bounds;
            paint.Shader = SKShader.CreateLinearGradient(new SKPoint(bounds.Left, bounds.Top), new SKPoint(bounds.Right, bounds.Bottom), [c1, c2], SKShaderTileMode.Clamp);
            canvas.DrawPath(path, paint);
            paint.Shader.Dispose();
        }
        canvas.Flush();

        // RGB with Gaussian noise.
        var rgba = bitmap.GetPixelSpan();
        var rgb = new byte[w * h * 3];
        for (int p = 0; p < w * h; p++)
        {
            for (int c = 0; c < 3; c++)
            {
                double v = rgba[4 * p + c] + (o.NoiseSigma > 0 ? o.NoiseSigma * Gaussian(rng) : 0);
                rgb[3 * p + c] = (byte)Math.Clamp(Math.Round(v), 0, 255);
            }
        }

        var objects = new List<ObjectAnnotation>(placed.Count);
        var labels = new byte[w * h];
        for (int p = 0; p < owner.Length; p++) labels[p] = owner[p] == 0 ? (byte)0 : (byte)placed[owner[p] - 1].Label;
        for (int j = 0; j < placed.Count; j++)
        {
            var visible = new byte[w * h];
            for (int p = 0; p < owner.Length; p++) visible[p] = owner[p] == j + 1 ? (byte)1 : (byte)0;
            var rle = Rle.Encode(visible, h, w);
            var (bx, by, bw, bh) = rle.ToBbox();
            var box = BoxXyxy.FromXywh(bx, by, bw, bh);
            objects.Add(new ObjectAnnotation(box, placed[j].Label, placed[j].Label, false, rle.Area, new RleMask(rle)));
            placed[j].Path.Dispose();
        }
        return (new RgbImage(w, h, rgb), objects, labels);
    }

    private static byte[] RasterizeMask(SKPath path, int w, int h)
    {
        var info = new SKImageInfo(w, h, SKColorType.Alpha8, SKAlphaType.Premul);
        using var bm = new SKBitmap(info);
        using (var c = new SKCanvas(bm))
        {
            c.Clear(SKColors.Transparent);
            using var paint = new SKPaint { IsAntialias = false, Color = SKColors.White, Style = SKPaintStyle.Fill };
            c.DrawPath(path, paint);
        }
        var span = bm.GetPixelSpan();
        var mask = new byte[w * h];
        int rowBytes = bm.RowBytes;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                mask[y * w + x] = span[y * rowBytes + x] >= 128 ? (byte)1 : (byte)0;
        return mask;
    }

    private static (SKColor A, SKColor B) DrawBackground(SKCanvas canvas, Random rng, int w, int h)
    {
        float hue = (float)(rng.NextDouble() * 360);
        float light = 25 + (float)rng.NextDouble() * 55;
        var a = SKColor.FromHsl(hue, 10 + (float)rng.NextDouble() * 25, light);
        var b = SKColor.FromHsl((hue + (float)rng.NextDouble() * 60) % 360, 10 + (float)rng.NextDouble() * 25, Math.Clamp(light + (float)(rng.NextDouble() * 30 - 15), 10, 90));
        using (var paint = new SKPaint())
        {
            paint.Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(w * (float)rng.NextDouble(), h), [a, b], SKShaderTileMode.Clamp);
            canvas.DrawRect(0, 0, w, h, paint);
            paint.Shader.Dispose();
        }
        using var tex = new SKPaint { IsAntialias = true };
        switch (rng.Next(4))
        {
            case 0: // stripes
                tex.Color = (rng.Next(2) == 0 ? SKColors.White : SKColors.Black).WithAlpha((byte)rng.Next(15, 45));
                tex.StrokeWidth = 2 + rng.Next(8);
                float step = tex.StrokeWidth * (2 + rng.Next(3));
                canvas.Save();
                canvas.RotateDegrees((float)(rng.NextDouble() * 180), w / 2f, h / 2f);
                for (float x = -w; x < 2 * w; x += step) canvas.DrawLine(x, -h, x, 2 * h, tex);
                canvas.Restore();
                break;
            case 1: // checker
                int cell = 8 + rng.Next(24);
                tex.Color = (rng.Next(2) == 0 ? SKColors.White : SKColors.Black).WithAlpha((byte)rng.Next(12, 35));
                for (int y = 0; y < h; y += cell)
                    for (int x = (y / cell) % 2 * cell; x < w; x += 2 * cell)
                        canvas.DrawRect(x, y, cell, cell, tex);
                break;
            case 2: // soft blobs
                for (int k = 0; k < 12; k++)
                {
                    tex.Color = SKColor.FromHsl((float)(rng.NextDouble() * 360), 20, (float)(20 + rng.NextDouble() * 60)).WithAlpha((byte)rng.Next(20, 60));
                    canvas.DrawOval((float)rng.NextDouble() * w, (float)rng.NextDouble() * h, 10 + (float)rng.NextDouble() * w / 4, 10 + (float)rng.NextDouble() * h / 4, tex);
                }
                break;
            default: // plain gradient, noise only
                break;
        }
        // Clutter: thin lines and dots that are not objects.
        tex.Style = SKPaintStyle.Stroke;
        for (int k = rng.Next(0, 6); k > 0; k--)
        {
            tex.Color = SKColor.FromHsl((float)(rng.NextDouble() * 360), 30, (float)(20 + rng.NextDouble() * 60)).WithAlpha((byte)rng.Next(60, 140));
            tex.StrokeWidth = 1 + (float)rng.NextDouble() * 2;
            canvas.DrawLine((float)rng.NextDouble() * w, (float)rng.NextDouble() * h, (float)rng.NextDouble() * w, (float)rng.NextDouble() * h, tex);
        }
        return (a, b);
    }

    private static (SKColor, SKColor) ObjectColours(Random rng, SKColor bgA, SKColor bgB)
    {
        float bgLight = (Luma(bgA) + Luma(bgB)) / 2;
        for (int attempt = 0; ; attempt++)
        {
            float hue = (float)(rng.NextDouble() * 360);
            float sat = 55 + (float)rng.NextDouble() * 45;
            float light = 20 + (float)rng.NextDouble() * 60;
            var c = SKColor.FromHsl(hue, sat, light);
            if (Math.Abs(Luma(c) - bgLight) >= 0.18f || attempt >= 20)
            {
                var c2 = SKColor.FromHsl(hue, sat, Math.Clamp(light + (float)(rng.NextDouble() * 16 - 8), 5, 95));
                return (c, c2);
            }
        }
    }

    private static float Luma(SKColor c) => (0.299f * c.Red + 0.587f * c.Green + 0.114f * c.Blue) / 255f;

    private static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
