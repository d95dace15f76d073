using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Records;
using Man.Vision.Data.Voc;

namespace Man.Vision.Data.Segmentation;

/// <summary>Lists the image/label pairs of the label-png data set layouts (VOC, CamVid, Cityscapes, pair lists).</summary>
/// <remarks>
/// Listing checks that both files of every pair exist (<c>missing-image</c>, <c>missing-label</c>: fail, or skip the pair);
/// the labels themselves are read per sample by <see cref="LabelReader"/>.
/// </remarks>
public static class SegmentationReader
{
    /// <summary>The layouts <see cref="Read"/> knows.</summary>
    public static IReadOnlyList<string> Layouts { get; } = ["voc", "camvid", "cityscapes"];

    /// <summary>Reads a layout by name: "voc", "camvid" or "cityscapes".</summary>
    /// <exception cref="ArgumentException">The layout is unknown (the message lists the valid ones).</exception>
    public static SegmentationDataset Read(string layout, string root, string split, OnBad onBad = OnBad.Fail) => layout.ToLowerInvariant() switch
    {
        "voc" => ReadVoc(root, split, onBad),
        "camvid" => ReadCamVid(root, split, onBad),
        "cityscapes" => ReadCityscapes(root, split, onBad),
        _ => throw new ArgumentException($"Unknown segmentation layout '{layout}'; valid: {string.Join(", ", Layouts)}.", nameof(layout)),
    };

    /// <summary>
    /// PASCAL VOC: <c>ImageSets/Segmentation/{split}.txt</c>, <c>JPEGImages/{id}.jpg</c> (or .png), <c>SegmentationClass/{id}.png</c>
    /// (palette indices). Classes: background + the root's <c>labels.txt</c> when present, else the 21 VOC classes.
    /// </summary>
    public static SegmentationDataset ReadVoc(string root, string split, OnBad onBad = OnBad.Fail)
    {
        var log = new BadInputLog(onBad);
        var ids = VocReader.ReadSplit(root, Path.Combine("ImageSets", "Segmentation"), split);
        var samples = new List<LabelImageRecord>(ids.Count);
        foreach (var id in ids)
        {
            string image = Path.Combine(root, "JPEGImages", id + ".jpg");
            if (!File.Exists(image) && File.Exists(Path.ChangeExtension(image, ".png"))) image = Path.ChangeExtension(image, ".png");
            Add(samples, log, image, Path.Combine(root, "SegmentationClass", id + ".png"), id);
        }
        var encoding = LabelEncoding.Voc;
        string labels = Path.Combine(root, VocClasses.LabelsFile);
        if (File.Exists(labels))
        {
            var names = File.ReadLines(labels).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
            if (names.Count == 0) throw new BadInputException("no-categories", labels, "the class list is empty");
            encoding = LabelEncoding.Identity("voc", ["background", .. names], paletteRgb: LabelEncoding.VocPalette(256));
        }
        return new SegmentationDataset($"voc-seg:{split}", samples, encoding, log);
    }

    /// <summary>
    /// CamVid (SegNet layout): <c>{split}.txt</c> lists "image label" path pairs relative to the root (absolute SegNet
    /// paths such as <c>/SegNet/CamVid/train/x.png</c> are resolved by their last two components); 11 classes, 11 = void → ignore.
    /// </summary>
    public static SegmentationDataset ReadCamVid(string root, string split, OnBad onBad = OnBad.Fail) =>
        ReadPairList(root, Path.Combine(root, split + ".txt"), LabelEncoding.CamVid, $"camvid:{split}", onBad);

    /// <summary>A list file of "image label" pairs (whitespace-separated, relative to <paramref name="root"/>) with any encoding.</summary>
    public static SegmentationDataset ReadPairList(string root, string listFile, LabelEncoding encoding, string name, OnBad onBad = OnBad.Fail)
    {
        var log = new BadInputLog(onBad);
        if (!File.Exists(listFile)) throw new BadInputException("missing-split", listFile, "the list file does not exist");
        var samples = new List<LabelImageRecord>();
        int lineNo = 0;
        foreach (var raw in File.ReadLines(listFile))
        {
            lineNo++;
            string line = raw.Trim();
            if (line.Length == 0) continue;
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
            {
                log.Handle(new BadInputException("malformed-list", listFile, $"line {lineNo}: expected \"image label\", got \"{line}\""));
                continue;
            }
            string image = Resolve(root, parts[0]), label = Resolve(root, parts[1]);
            Add(samples, log, image, label, Path.GetFileNameWithoutExtension(image));
        }
        if (samples.Count == 0 && log.IsEmpty) throw new BadInputException("missing-split", listFile, "the list file is empty");
        return new SegmentationDataset(name, samples, encoding, log);
    }

    /// <summary>
    /// Cityscapes: <c>leftImg8bit/{split}/{city}/*_leftImg8bit.png</c> with <c>gtFine/{split}/{city}/*_gtFine_labelIds.png</c>;
    /// labelIds are mapped to the 19 training ids.
    /// </summary>
    public static SegmentationDataset ReadCityscapes(string root, string split, OnBad onBad = OnBad.Fail)
    {
        var log = new BadInputLog(onBad);
        string images = Path.Combine(root, "leftImg8bit", split);
        if (!Directory.Exists(images)) throw new BadInputException("missing-split", images, "the Cityscapes image folder of this split does not exist");
        var samples = new List<LabelImageRecord>();
        foreach (var image in Directory.EnumerateFiles(images, "*_leftImg8bit.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string city = Path.GetFileName(Path.GetDirectoryName(image)!);
            string stem = Path.GetFileName(image)[..^"_leftImg8bit.png".Length];
            Add(samples, log, image, Path.Combine(root, "gtFine", split, city, stem + "_gtFine_labelIds.png"), stem);
        }
        if (samples.Count == 0 && log.IsEmpty) throw new BadInputException("missing-split", images, "no *_leftImg8bit.png image in the split");
        return new SegmentationDataset($"cityscapes:{split}", samples, LabelEncoding.Cityscapes, log);
    }

    private static string Resolve(string root, string p)
    {
        string direct = Path.Combine(root, p.TrimStart('/'));
        if (File.Exists(direct)) return direct;
        var comps = p.Split('/', '\\', StringSplitOptions.RemoveEmptyEntries);
        if (comps.Length >= 2)
        {
            string tail = Path.Combine(root, comps[^2], comps[^1]);
            if (File.Exists(tail)) return tail;
        }
        return direct;
    }

    private static void Add(List<LabelImageRecord> samples, BadInputLog log, string image, string label, string name)
    {
        if (!File.Exists(image)) { log.Handle(new BadInputException("missing-image", image, $"sample {name}: the image file does not exist")); return; }
        if (!File.Exists(label)) { log.Handle(new BadInputException("missing-label", label, $"sample {name}: the label file does not exist")); return; }
        samples.Add(new LabelImageRecord(image, label, name));
    }
}
