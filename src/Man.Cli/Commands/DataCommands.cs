using System.CommandLine;
using System.Globalization;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Stats;
using Man.Vision.Data.Synthetic;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Man.Cli.Commands;

/// <summary><c>man-vision data synth</c> and <c>man-vision data stats</c>.</summary>
public static class DataCommands
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    /// <summary>The data command group.</summary>
    public static Command Create()
    {
        var data = new Command("data", "Data sets: render the synthetic set, print statistics.");
        data.Subcommands.Add(Synth());
        data.Subcommands.Add(Stats());
        return data;
    }

    /// <summary><c>data synth --task detect|segment --out DIR --n N --seed S</c>.</summary>
    public static Command Synth()
    {
        var task = new Option<string>("--task") { Description = "detect | segment (both write every format; the object sizes and counts differ).", DefaultValueFactory = _ => "detect" };
        var outDir = new Option<string>("--out") { Description = "Output folder (VOC-style root with coco/ json; see datasets/README.md).", Required = true };
        var n = new Option<int>("--n") { Description = "Number of images.", DefaultValueFactory = _ => 100 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 0 };
        var size = new Option<int?>("--size") { Description = "Image width and height in pixels (default 256; object sizes scale with it)." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an earlier synthetic data set in --out (other non-empty folders are refused)." };
        var cmd = new Command("synth", "Render the synthetic shapes data set (COCO json with RLE masks, VOC xml, label pngs); no download needed.")
        { task, outDir, n, seed, size, overwrite };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var t = ParseTask(r.GetValue(task)!);
            string root = Path.GetFullPath(r.GetValue(outDir)!);
            PrepareOutput(root, r.GetValue(overwrite));
            var options = SyntheticOptions.For(t);
            if (r.GetValue(size) is int s)
            {
                // Object sizes scale with the image (the defaults are for 256 px).
                double f = s / 256.0;
                int min = Math.Max(6, (int)Math.Round(options.MinSize * f));
                options = options with { Width = s, Height = s, MinSize = min, MaxSize = Math.Max(min, (int)Math.Round(options.MaxSize * f)) };
            }
            var summary = SyntheticDataWriter.Write(t, root, r.GetValue(n), r.GetValue(seed), options);
            Console.Out.Write(SynthText(summary, options));
            return 0;
        }));
        return cmd;
    }

    /// <summary><c>data stats DIR</c>.</summary>
    public static Command Stats()
    {
        var dir = new Argument<string>("DIR") { Description = "The data set folder (or a COCO instances json)." };
        var format = new Option<string>("--format") { Description = "auto | coco | coco:JSON | voc | voc-seg | camvid | cityscapes", DefaultValueFactory = _ => "auto" };
        var split = new Option<string>("--split") { Description = "A split (train, val, ...) or all (every split found, merged).", DefaultValueFactory = _ => "all" };
        var images = new Option<string?>("--images") { Description = "The COCO image folder (found from the json's first file name when omitted)." };
        var grid = new Option<string?>("--grid") { Description = "Write a png grid of samples with boxes and masks drawn (segmentation: label maps; with both, the segmentation grid goes to NAME.seg.png)." };
        var gridCount = new Option<int>("--grid-count") { Description = "Samples in the grid.", DefaultValueFactory = _ => 16 };
        var gridSeed = new Option<int>("--grid-seed") { Description = "Seed of the grid's random choice of samples (-1: the first samples in order).", DefaultValueFactory = _ => 0 };
        var json = new Option<string?>("--json") { Description = "Write the numbers as json here." };
        var onBad = new Option<string>("--on-bad") { Description = "fail | skip: stop at the first unusable file, or leave it out and count it in the warning summary.", DefaultValueFactory = _ => "fail" };
        var maxImages = new Option<int>("--max-label-images") { Description = "Read at most this many label images for pixel frequencies (0 = all).", DefaultValueFactory = _ => 0 };
        var cmd = new Command("stats", "Images and objects per class, image sizes, boxes by COCO size, pixel class frequencies; optional png grid and json.")
        { dir, format, split, images, grid, gridCount, gridSeed, json, onBad, maxImages };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var policy = ParseOnBad(r.GetValue(onBad)!);
            var located = DataSetLocator.Open(r.GetValue(dir)!, r.GetValue(format)!, r.GetValue(split)!, policy, r.GetValue(images));
            var doc = new JObject { ["path"] = Path.GetFullPath(r.GetValue(dir)!), ["found"] = new JArray(located.Found) };
            foreach (var f in located.Found) Console.Out.WriteLine($"found       {f}");
            int max = r.GetValue(maxImages) is > 0 and var m ? m : int.MaxValue;
            if (located.Detection is { } det)
            {
                var s = DataStats.Compute(det);
                var med = DataStatsReport.Medians(det);
                Console.Out.Write(DataStatsReport.Text(s, med));
                doc["detection"] = DataStatsReport.Json(s, med);
            }
            if (located.Segmentation is { } seg)
            {
                var s = DataStats.Compute(seg, max);
                var med = DataStatsReport.Medians(seg, max);
                Console.Out.Write(DataStatsReport.Text(s, med));
                doc["segmentation"] = DataStatsReport.Json(s, med);
            }
            if (r.GetValue(grid) is string gridPath)
            {
                var written = new JArray();
                int count = Math.Max(1, r.GetValue(gridCount));
                int? seed = r.GetValue(gridSeed) is >= 0 and var gs ? gs : null;
                if (located.Detection is { } d && RenderGrid(() => SampleGrid.Render(d, gridPath, count, seed: seed), d.Log))
                    written.Add(Path.GetFullPath(gridPath));
                if (located.Segmentation is { } sg)
                {
                    string p = located.Detection is null ? gridPath : Path.ChangeExtension(gridPath, ".seg.png");
                    if (RenderGrid(() => SampleGrid.Render(sg, p, count, seed: seed), sg.Log)) written.Add(Path.GetFullPath(p));
                }
                foreach (var p in written) Console.Out.WriteLine($"grid        {p}");
                doc["grid"] = written;
            }
            var warnings = new JObject();
            if (located.Detection is { } d2)
            {
                warnings["detection"] = DataStatsReport.Json(d2.Log);
                Console.Out.WriteLine($"warnings    {(located.Segmentation is null ? "" : "(detection) ")}{d2.Log}");
            }
            if (located.Segmentation is { } s2)
            {
                warnings["segmentation"] = DataStatsReport.Json(s2.Log);
                Console.Out.WriteLine($"warnings    {(located.Detection is null ? "" : "(segmentation) ")}{s2.Log}");
            }
            doc["warnings"] = warnings;
            if (r.GetValue(json) is string jsonPath)
            {
                string? parent = Path.GetDirectoryName(Path.GetFullPath(jsonPath));
                if (parent is not null) Directory.CreateDirectory(parent);
                File.WriteAllText(jsonPath, doc.ToString(Formatting.Indented));
                Console.Out.WriteLine($"json        {Path.GetFullPath(jsonPath)}");
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>
    /// Draws a grid; under <see cref="OnBad.Skip"/> an image that cannot be drawn is counted in the log and the grid is
    /// left out (with a line saying so) instead of failing the whole command.
    /// </summary>
    private static bool RenderGrid(Action render, BadInputLog log)
    {
        try
        {
            render();
            return true;
        }
        catch (BadInputException e) when (log.Policy == OnBad.Skip)
        {
            log.Handle(e);
            Console.Out.WriteLine($"grid        not written: {e.Message}");
            return false;
        }
    }

    /// <summary>Parses <c>--on-bad</c>.</summary>
    public static OnBad ParseOnBad(string value) => value.Trim().ToLowerInvariant() switch
    {
        "fail" => OnBad.Fail,
        "skip" => OnBad.Skip,
        _ => throw new ArgumentException($"Unknown --on-bad value '{value}'; valid: fail, skip."),
    };

    private static SyntheticTask ParseTask(string value) => value.Trim().ToLowerInvariant() switch
    {
        "detect" or "detection" => SyntheticTask.Detect,
        "segment" or "segmentation" => SyntheticTask.Segment,
        _ => throw new ArgumentException($"Unknown --task '{value}'; valid: detect, segment."),
    };

    /// <summary>The entries <see cref="SyntheticDataWriter"/> writes under its root.</summary>
    private static readonly string[] SyntheticEntries = ["JPEGImages", "Annotations", "SegmentationClass", "ImageSets", "coco", "labels.txt", "README.txt"];

    private static void PrepareOutput(string root, bool overwrite)
    {
        if (File.Exists(root)) throw new ArgumentException($"--out {root} is a file; give a folder.");
        if (!Directory.Exists(root) || !Directory.EnumerateFileSystemEntries(root).Any()) return;
        string readme = Path.Combine(root, "README.txt");
        bool synthetic = File.Exists(readme) && File.ReadLines(readme).FirstOrDefault()?.StartsWith("Synthetic shapes data set", StringComparison.Ordinal) == true;
        if (!overwrite)
            throw new ArgumentException($"--out {root} is not empty; " +
                (synthetic ? "it holds a synthetic data set: add --overwrite to replace it." : "choose an empty or new folder."));
        if (!synthetic)
            throw new ArgumentException($"--out {root} is not empty and does not hold a synthetic data set (no README.txt written by data synth); refusing to overwrite it.");
        foreach (var e in SyntheticEntries)
        {
            string p = Path.Combine(root, e);
            if (Directory.Exists(p)) Directory.Delete(p, recursive: true);
            else if (File.Exists(p)) File.Delete(p);
        }
    }

    private static string SynthText(SyntheticDataSummary s, SyntheticOptions o)
    {
        var sb = new System.Text.StringBuilder();
        int images = s.TrainImages + s.ValImages;
        sb.AppendLine(Ci, $"synthetic {s.Task.ToString().ToLowerInvariant()} data, seed {s.Seed}: {images} images of {o.Width}x{o.Height} ({s.TrainImages} train, {s.ValImages} val) in {s.Root}");
        int width = Math.Max(5, s.ObjectsPerClass.Keys.Max(k => k.Length));
        sb.AppendLine(Ci, $"  {"class".PadRight(width)}  objects");
        foreach (var (name, count) in s.ObjectsPerClass) sb.AppendLine(Ci, $"  {name.PadRight(width)}  {count,7}");
        sb.AppendLine(Ci, $"  {"total".PadRight(width)}  {s.Objects,7}  ({(images > 0 ? (double)s.Objects / images : 0):0.##} per image)");
        sb.AppendLine("  files written");
        foreach (var (entry, what) in new[]
                 {
                     ("JPEGImages", "images (png)"), ("Annotations", "VOC xml"), ("SegmentationClass", "VOC-palette label pngs"),
                     ("ImageSets", "split lists (Main, Segmentation)"), ("coco", "COCO instances json (RLE masks)"),
                 })
        {
            string dir = Path.Combine(s.Root, entry);
            int files = Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Count() : 0;
            sb.AppendLine(Ci, $"    {entry + "/",-20} {files,6}  {what}");
        }
        sb.AppendLine("    labels.txt, README.txt");
        return sb.ToString();
    }
}
