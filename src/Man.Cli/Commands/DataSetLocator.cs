using Man.Vision.Data.Coco;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Records;
using Man.Vision.Data.Segmentation;
using Man.Vision.Data.Voc;
using Newtonsoft.Json;

namespace Man.Cli.Commands;

/// <summary>The data sets found in a folder: a detection part, a segmentation part, or both (a VOC root, the synthetic set).</summary>
/// <param name="Detection">Boxes (and instance masks for COCO), or null.</param>
/// <param name="Segmentation">Label pngs, or null.</param>
/// <param name="Found">What was read from where, one line each.</param>
public sealed record LocatedData(DetectionDataset? Detection, SegmentationDataset? Segmentation, IReadOnlyList<string> Found);

/// <summary>
/// Finds and reads the data set layouts of a folder for <c>man-vision data stats</c>: COCO (<c>instances_*.json</c> in the
/// folder, <c>annotations/</c> or <c>coco/</c>), PASCAL VOC (<c>Annotations/</c> + <c>ImageSets/Main</c>; segmentation
/// <c>SegmentationClass/</c> + <c>ImageSets/Segmentation</c>), CamVid (<c>{split}.txt</c> + <c>trainannot/</c>) and
/// Cityscapes (<c>leftImg8bit/</c> + <c>gtFine/</c>). Several splits are merged into one data set (images listed in two
/// splits, e.g. VOC's train and trainval, count once).
/// </summary>
public static class DataSetLocator
{
    /// <summary>The values <c>--format</c> takes.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["auto", "coco", "coco:JSON", "voc", "voc-seg", "camvid", "cityscapes"];

    /// <summary>Reads the data set(s) of <paramref name="path"/> (a folder, or a COCO json file).</summary>
    /// <param name="path">The data folder (or an <c>instances_*.json</c>).</param>
    /// <param name="format">auto | coco | coco:JSON | voc | voc-seg | camvid | cityscapes.</param>
    /// <param name="split">A split name (train, val, ...), or "all" to merge every split found.</param>
    /// <param name="onBad">What the readers do with input they cannot use.</param>
    /// <param name="cocoImages">The COCO image folder; null finds it from the json's first <c>file_name</c>.</param>
    /// <exception cref="BadInputException">The folder or a file is missing or malformed, or no known layout is found.</exception>
    /// <exception cref="ArgumentException">An unknown format.</exception>
    public static LocatedData Open(string path, string format, string split, OnBad onBad, string? cocoImages = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string f = format.Trim();
        string? cocoJson = null;
        if (f.StartsWith("coco:", StringComparison.OrdinalIgnoreCase))
        {
            cocoJson = f[5..];
            if (!Path.IsPathRooted(cocoJson) && !File.Exists(cocoJson) && Directory.Exists(path)) cocoJson = Path.Combine(path, cocoJson);
            f = "coco";
        }
        else if (File.Exists(path) && path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            cocoJson = path;
            path = Path.GetDirectoryName(Path.GetFullPath(path))!;
            if (f == "auto") f = "coco";
        }
        f = f.ToLowerInvariant();
        if (f is not ("auto" or "coco" or "voc" or "voc-seg" or "camvid" or "cityscapes"))
            throw new ArgumentException($"Unknown data format '{format}'; valid: {string.Join(", ", Formats)}.");
        if (File.Exists(path))
            throw new BadInputException("not-a-folder", path, "is a file; give the data set folder (or a COCO instances json)");
        if (!Directory.Exists(path))
            throw new BadInputException("missing-data", path, "the data folder does not exist");

        var found = new List<string>();
        DetectionDataset? det = null;
        SegmentationDataset? seg = null;
        bool auto = f == "auto";

        // Detection: COCO first (it carries instance masks), then VOC.
        if (f == "coco" || auto)
        {
            var jsons = cocoJson is not null ? [cocoJson] : FindCocoJsons(path, split);
            if (jsons.Count == 0 && f == "coco")
                throw new BadInputException("missing-annotations", path,
                    $"no COCO instances json{(split == "all" ? "" : $" of split '{split}'")} in the folder, annotations/ or coco/; give --format coco:PATH.json");
            if (jsons.Count > 0)
            {
                var sets = new List<DetectionDataset>();
                foreach (var json in jsons)
                {
                    string images = cocoImages ?? FindCocoImageDir(json, path);
                    sets.Add(CocoReader.Read(json, images, new CocoReadOptions(onBad)));
                    found.Add($"COCO {json} (images in {images})");
                }
                det = MergeDetection(sets, onBad);
            }
        }
        if (det is null && (f == "voc" || auto) && Directory.Exists(Path.Combine(path, "Annotations")) && Directory.Exists(Path.Combine(path, "ImageSets", "Main")))
        {
            var splits = Splits(path, Path.Combine("ImageSets", "Main"), split);
            det = MergeDetection(splits.Select(s => VocReader.Read(path, s, new VocReadOptions(onBad))).ToList(), onBad);
            found.Add($"VOC detection {path} (splits {string.Join(", ", splits)})");
        }
        else if (f == "voc" && det is null)
            throw new BadInputException("unknown-layout", path, "is not a VOC root: Annotations/ and ImageSets/Main/ are needed");

        // Segmentation.
        if ((f == "voc-seg" || auto) && Directory.Exists(Path.Combine(path, "SegmentationClass")) && Directory.Exists(Path.Combine(path, "ImageSets", "Segmentation")))
        {
            var splits = Splits(path, Path.Combine("ImageSets", "Segmentation"), split);
            seg = MergeSegmentation(splits.Select(s => SegmentationReader.ReadVoc(path, s, onBad)).ToList(), onBad);
            found.Add($"VOC segmentation {path} (splits {string.Join(", ", splits)})");
        }
        else if (f == "voc-seg")
            throw new BadInputException("unknown-layout", path, "is not a VOC segmentation root: SegmentationClass/ and ImageSets/Segmentation/ are needed");
        if (seg is null && (f == "camvid" || auto) && IsCamVid(path))
        {
            var splits = split == "all"
                ? new[] { "train", "val", "test" }.Where(s => File.Exists(Path.Combine(path, s + ".txt"))).ToList()
                : [split];
            seg = MergeSegmentation(splits.Select(s => SegmentationReader.ReadCamVid(path, s, onBad)).ToList(), onBad);
            found.Add($"CamVid {path} (splits {string.Join(", ", splits)})");
        }
        else if (f == "camvid" && seg is null)
            throw new BadInputException("unknown-layout", path, "is not a CamVid root: a train.txt/val.txt list and trainannot/ are needed");
        if (seg is null && (f == "cityscapes" || auto) && Directory.Exists(Path.Combine(path, "leftImg8bit")) && Directory.Exists(Path.Combine(path, "gtFine")))
        {
            var splits = split == "all"
                ? Directory.GetDirectories(Path.Combine(path, "leftImg8bit")).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList()
                : [split];
            seg = MergeSegmentation(splits.Select(s => SegmentationReader.ReadCityscapes(path, s, onBad)).ToList(), onBad);
            found.Add($"Cityscapes {path} (splits {string.Join(", ", splits)})");
        }
        else if (f == "cityscapes" && seg is null)
            throw new BadInputException("unknown-layout", path, "is not a Cityscapes root: leftImg8bit/ and gtFine/ are needed");

        if (det is null && seg is null)
            throw new BadInputException("unknown-layout", path,
                "no known data set layout found. Looked for a COCO instances_*.json (in the folder, annotations/ or coco/), " +
                "VOC Annotations/ + ImageSets/Main/, VOC SegmentationClass/ + ImageSets/Segmentation/, CamVid train.txt + trainannot/, " +
                "Cityscapes leftImg8bit/ + gtFine/. Give --format coco:PATH.json|voc|voc-seg|camvid|cityscapes (see datasets/README.md).");
        return new LocatedData(det, seg, found);
    }

    /// <summary>The <c>instances*.json</c> files of a folder, its <c>annotations/</c> and <c>coco/</c>, filtered by split.</summary>
    public static IReadOnlyList<string> FindCocoJsons(string root, string split = "all")
    {
        var all = new[] { root, Path.Combine(root, "annotations"), Path.Combine(root, "coco") }
            .Where(Directory.Exists)
            .SelectMany(d => Directory.GetFiles(d, "instances*.json"))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (split == "all") return all;
        var exact = all.Where(j => Path.GetFileNameWithoutExtension(j).Equals("instances_" + split, StringComparison.OrdinalIgnoreCase)).ToList();
        return exact.Count > 0 ? exact : all.Where(j => Path.GetFileNameWithoutExtension(j).Contains(split, StringComparison.OrdinalIgnoreCase)).ToList();
    }

    /// <summary>
    /// The image folder of a COCO json: the first folder among the usual places (the split's name beside the json or
    /// under the root, <c>images/</c>, <c>JPEGImages/</c>, any sub-folder of the root) that holds the json's first image.
    /// </summary>
    /// <exception cref="BadInputException">No folder holds that image (the message lists the folders tried).</exception>
    public static string FindCocoImageDir(string json, string root)
    {
        string? first = FirstFileName(json);
        string jsonDir = Path.GetDirectoryName(Path.GetFullPath(json))!;
        string name = Path.GetFileNameWithoutExtension(json);
        string splitName = name.StartsWith("instances_", StringComparison.Ordinal) ? name["instances_".Length..] : name;
        var candidates = new List<string>
        {
            Path.Combine(root, splitName), Path.Combine(jsonDir, splitName), Path.Combine(Path.GetDirectoryName(jsonDir) ?? jsonDir, splitName),
            Path.Combine(root, "images", splitName), Path.Combine(root, "images"), Path.Combine(root, "JPEGImages"), root, jsonDir,
        };
        candidates.AddRange(Directory.GetDirectories(root).Order(StringComparer.Ordinal));
        candidates = candidates.Select(Path.GetFullPath).Distinct().Where(Directory.Exists).ToList();
        if (first is null)
            return candidates.FirstOrDefault(c => c != Path.GetFullPath(root)) ?? root; // no images listed: any folder will do
        foreach (var c in candidates)
            if (File.Exists(Path.Combine(c, first))) return c;
        throw new BadInputException("missing-image-dir", json,
            $"cannot find the image folder: the first listed image '{first}' is in none of {string.Join(", ", candidates)}; give --images DIR");
    }

    /// <summary>Streams the json up to the first <c>images[].file_name</c> (null when the list is empty or absent).</summary>
    private static string? FirstFileName(string json)
    {
        if (!File.Exists(json)) throw new BadInputException("missing-annotations", json, "the annotation file does not exist");
        try
        {
            using var sr = new StreamReader(json);
            using var jr = new JsonTextReader(sr);
            while (jr.Read())
            {
                if (jr.TokenType == JsonToken.PropertyName && (string?)jr.Value == "file_name" && jr.Path.StartsWith("images[", StringComparison.Ordinal))
                {
                    jr.Read();
                    return jr.TokenType == JsonToken.String ? (string?)jr.Value : null;
                }
            }
            return null;
        }
        catch (JsonReaderException e)
        {
            throw new BadInputException("malformed-json", json, $"line {e.LineNumber}, position {e.LinePosition}: malformed json", e);
        }
    }

    private static bool IsCamVid(string root) =>
        (File.Exists(Path.Combine(root, "train.txt")) || File.Exists(Path.Combine(root, "val.txt"))) &&
        (Directory.Exists(Path.Combine(root, "trainannot")) || Directory.Exists(Path.Combine(root, "valannot")));

    private static List<string> Splits(string root, string folder, string split)
    {
        if (split != "all") return [split];
        string dir = Path.Combine(root, folder);
        var names = Directory.GetFiles(dir, "*.txt").Select(Path.GetFileNameWithoutExtension).OfType<string>()
            .Where(n => !n.Contains('_')) // VOC's per-class lists (aeroplane_train.txt)
            .Order(StringComparer.Ordinal).ToList();
        if (names.Count == 0) throw new BadInputException("missing-split", dir, "no split list (train.txt, val.txt, ...) in the folder");
        return names;
    }

    private static DetectionDataset MergeDetection(IReadOnlyList<DetectionDataset> sets, OnBad onBad)
    {
        if (sets.Count == 1) return sets[0];
        var first = sets[0];
        foreach (var s in sets.Skip(1))
        {
            if (!s.Categories.Categories.Select(c => (c.Id, c.Name)).SequenceEqual(first.Categories.Categories.Select(c => (c.Id, c.Name))))
                throw new ArgumentException($"{s.Name} and {first.Name} have different category lists; choose one with --split.");
        }
        var log = new BadInputLog(onBad);
        foreach (var s in sets) log.Merge(s.Log);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var images = sets.SelectMany(s => s.Images).Where(i => seen.Add(Path.GetFullPath(i.FilePath))).ToList();
        return new DetectionDataset(string.Join("+", sets.Select(s => s.Name)), first.Categories, images, log);
    }

    private static SegmentationDataset MergeSegmentation(IReadOnlyList<SegmentationDataset> sets, OnBad onBad)
    {
        if (sets.Count == 1) return sets[0];
        var first = sets[0];
        if (sets.Any(s => !s.Encoding.ClassNames.SequenceEqual(first.Encoding.ClassNames)))
            throw new ArgumentException($"The splits {string.Join(", ", sets.Select(s => s.Name))} have different class lists; choose one with --split.");
        var log = new BadInputLog(onBad);
        foreach (var s in sets) log.Merge(s.Log);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var samples = sets.SelectMany(s => s.Samples).Where(r => seen.Add(Path.GetFullPath(r.ImagePath))).ToList();
        return new SegmentationDataset(string.Join("+", sets.Select(s => s.Name)), samples, first.Encoding, log);
    }
}
