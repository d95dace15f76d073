using Man.Vision.Data.Coco;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Records;
using Man.Vision.Data.Synthetic;
using Man.Vision.Data.Voc;
using Newtonsoft.Json;

namespace Man.Vision.Detection.Training;

/// <summary>The kind of a detection data set, which decides the evaluation (VOC data also gets VOC AP50).</summary>
public enum DetectionDataKind
{
    /// <summary>The embedded synthetic shapes (COCO json).</summary>
    Synthetic,

    /// <summary>COCO instances json.</summary>
    Coco,

    /// <summary>PASCAL VOC layout.</summary>
    Voc,
}

/// <summary>How <see cref="DetectionData.Open"/> reads data.</summary>
public sealed record DetectionDataOptions
{
    /// <summary>What readers do with bad annotations and images (<c>--on-bad fail|skip</c>).</summary>
    public OnBad OnBad { get; init; } = OnBad.Fail;

    /// <summary>Where the synthetic data set is rendered (null: <c>$MAN_CACHE</c> or <c>~/.cache/man-vision</c>).</summary>
    public string? CacheDir { get; init; }

    /// <summary>Images of the synthetic default (train + val, 20 % val).</summary>
    public int SyntheticImages { get; init; } = DetectionData.DefaultSyntheticImages;

    /// <summary>Seed of the synthetic renderer.</summary>
    public int SyntheticSeed { get; init; }
}

/// <summary>A training and a validation split of one detection data set.</summary>
/// <param name="Spec">The <c>--data</c> value.</param>
/// <param name="Kind">The data set's kind.</param>
/// <param name="Train">The training records.</param>
/// <param name="Val">The evaluation records.</param>
/// <param name="ValIsTrain">True when the data set has no separate evaluation split and the training images are evaluated.</param>
public sealed record DetectionDataSource(string Spec, DetectionDataKind Kind, DetectionDataset Train, DetectionDataset Val, bool ValIsTrain)
{
    /// <summary>Class names in label order (1..C).</summary>
    public IReadOnlyList<string> Classes => Train.Categories.Categories.Select(c => c.Name).ToArray();

    /// <summary>The category id of each label 1..C.</summary>
    public IReadOnlyList<int> CategoryIds => Train.Categories.Categories.Select(c => c.Id).ToArray();
}

/// <summary>
/// Opens a detection data set from the CLI's <c>--data</c> value: <c>synth</c> (rendered once into a cache folder),
/// <c>coco:DIR</c> / <c>coco:FILE.json</c>, or <c>voc:DIR</c>.
/// </summary>
public static class DetectionData
{
    /// <summary>Images of the synthetic default.</summary>
    public const int DefaultSyntheticImages = 200;

    /// <summary>The data set kinds <see cref="Open"/> knows, as the user writes them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["synth", "synth:N", "coco:DIR", "coco:FILE.json", "voc:DIR"];

    /// <summary>
    /// Opens <paramref name="spec"/>. COCO: a folder with <c>annotations/instances_{train,val}*.json</c> (or such files at
    /// its top), or one json; images are looked up next to the json (a folder named like the split, <c>images/</c>, or
    /// any sub-folder holding the first listed file). A single json is both split (its images are evaluated).
    /// VOC: <c>ImageSets/Main/{train|trainval}.txt</c> for training and <c>{val|test}.txt</c> for evaluation.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown kind (the valid ones are listed) or a missing split.</exception>
    /// <exception cref="BadInputException">A file is missing or malformed (under <see cref="OnBad.Fail"/>, also a bad entry).</exception>
    public static DetectionDataSource Open(string spec, DetectionDataOptions? options = null)
    {
        options ??= new DetectionDataOptions();
        string s = spec.Trim();
        int colon = s.IndexOf(':');
        string kind = (colon < 0 ? s : s[..colon]).ToLowerInvariant();
        string arg = colon < 0 ? "" : s[(colon + 1)..];
        return kind switch
        {
            "synth" => OpenSynthetic(s, arg, options),
            "coco" when arg.Length > 0 => OpenCoco(s, arg, options),
            "voc" when arg.Length > 0 => OpenVoc(s, arg, options),
            "coco" or "voc" => throw new ArgumentException($"--data {s}: give the data set's path, e.g. {kind}:/data/{kind}."),
            _ => throw new ArgumentException($"Unknown detection data set '{spec}'. Valid: {string.Join(", ", Names)}."),
        };
    }

    /// <summary>The folder the synthetic data set of <paramref name="images"/> images and <paramref name="seed"/> is rendered to.</summary>
    public static string SyntheticRoot(string? cacheDir, int images, int seed)
    {
        string root = cacheDir ?? Environment.GetEnvironmentVariable("MAN_CACHE")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "man-vision");
        return Path.Combine(root, $"synthetic-detect-n{images}-seed{seed}");
    }

    private static DetectionDataSource OpenSynthetic(string spec, string arg, DetectionDataOptions options)
    {
        int n = options.SyntheticImages;
        if (arg.Length > 0 && (!int.TryParse(arg, out n) || n < 5))
            throw new ArgumentException($"--data {spec}: synth:N needs a number of images N ≥ 5.");
        string root = SyntheticRoot(options.CacheDir, n, options.SyntheticSeed);
        string done = Path.Combine(root, ".complete");
        if (!File.Exists(done))
        {
            // Rendered into a private folder and moved into place, so concurrent runs never read half-written data.
            string staging = $"{root}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
            SyntheticDataWriter.Write(SyntheticTask.Detect, staging, n, options.SyntheticSeed);
            File.WriteAllText(Path.Combine(staging, ".complete"), DateTime.UtcNow.ToString("O"));
            if (Directory.Exists(root) && !File.Exists(done)) Directory.Delete(root, recursive: true);
            try
            {
                Directory.Move(staging, root);
            }
            catch (IOException) when (File.Exists(done))
            {
                Directory.Delete(staging, recursive: true); // another run finished first
            }
        }
        var read = new CocoReadOptions(options.OnBad, LoadMasks: false);
        var train = CocoReader.Read(SyntheticLayout.CocoJson(root, "train"), SyntheticLayout.ImageDir(root), read);
        var val = CocoReader.Read(SyntheticLayout.CocoJson(root, "val"), SyntheticLayout.ImageDir(root), read);
        return new DetectionDataSource(spec, DetectionDataKind.Synthetic, train, val, ValIsTrain: false);
    }

    private static DetectionDataSource OpenCoco(string spec, string path, DetectionDataOptions options)
    {
        var read = new CocoReadOptions(options.OnBad, LoadMasks: false);
        if (File.Exists(path))
        {
            var single = CocoReader.Read(path, FindImageDir(path), read);
            return new DetectionDataSource(spec, DetectionDataKind.Coco, single, single, ValIsTrain: true);
        }
        if (!Directory.Exists(path))
            throw new BadInputException("missing-data", path, "neither a COCO json file nor a folder");
        // COCO's annotations/ folder, or coco/ next to VOC-style JPEGImages/ (the layout `data synth` writes).
        var jsons = new[] { Path.Combine(path, "annotations"), Path.Combine(path, "coco"), path }.Where(Directory.Exists)
            .SelectMany(d => Directory.GetFiles(d, "instances_*.json")).Order(StringComparer.Ordinal).ToList();
        if (jsons.Count == 0)
            throw new BadInputException("missing-annotations", path, "no instances_*.json in the folder or its annotations/ or coco/ folder");
        string? trainJson = jsons.FirstOrDefault(j => Path.GetFileName(j).Contains("train", StringComparison.OrdinalIgnoreCase));
        string? valJson = jsons.FirstOrDefault(j => Path.GetFileName(j).Contains("val", StringComparison.OrdinalIgnoreCase));
        trainJson ??= valJson ?? jsons[0];
        var trainSet = CocoReader.Read(trainJson, FindImageDir(trainJson), read);
        if (valJson is null || valJson == trainJson)
            return new DetectionDataSource(spec, DetectionDataKind.Coco, trainSet, trainSet, ValIsTrain: true);
        var valSet = CocoReader.Read(valJson, FindImageDir(valJson), read);
        if (!valSet.Categories.Categories.Select(c => c.Id).SequenceEqual(trainSet.Categories.Categories.Select(c => c.Id)))
            throw new BadInputException("category-mismatch", valJson, $"its categories differ from those of {trainJson}");
        return new DetectionDataSource(spec, DetectionDataKind.Coco, trainSet, valSet, ValIsTrain: false);
    }

    private static DetectionDataSource OpenVoc(string spec, string root, DetectionDataOptions options)
    {
        if (!Directory.Exists(root)) throw new BadInputException("missing-data", root, "the VOC folder does not exist");
        string lists = Path.Combine(root, "ImageSets", "Main");
        bool Has(string split) => File.Exists(Path.Combine(lists, split + ".txt"));
        string? trainSplit = new[] { "train", "trainval" }.FirstOrDefault(Has);
        string? valSplit = new[] { "val", "test" }.FirstOrDefault(Has);
        if (trainSplit is null)
            throw new BadInputException("missing-split", lists, "no train.txt or trainval.txt: a VOC folder needs a training split list");
        var train = VocReader.Read(root, trainSplit, new VocReadOptions(options.OnBad));
        if (valSplit is null) return new DetectionDataSource(spec, DetectionDataKind.Voc, train, train, ValIsTrain: true);
        var names = train.Categories.Categories.Select(c => c.Name).ToArray();
        var val = VocReader.Read(root, valSplit, new VocReadOptions(options.OnBad, ClassNames: names));
        return new DetectionDataSource(spec, DetectionDataKind.Voc, train, val, ValIsTrain: false);
    }

    /// <summary>The image folder of a COCO json: the first candidate that holds the first listed image.</summary>
    private static string FindImageDir(string json)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(json))!;
        string? first = FirstFileName(json);
        string stem = Path.GetFileNameWithoutExtension(json);
        string split = stem.StartsWith("instances_", StringComparison.Ordinal) ? stem["instances_".Length..] : stem;
        var parents = new List<string> { dir };
        if (Path.GetFileName(dir) is var name && (name.Equals("annotations", StringComparison.OrdinalIgnoreCase) || name.Equals("coco", StringComparison.OrdinalIgnoreCase))
            && Path.GetDirectoryName(dir) is string up) parents.Add(up);
        var candidates = new List<string>();
        foreach (var p in parents)
        {
            candidates.Add(Path.Combine(p, split));
            candidates.Add(Path.Combine(p, "images", split));
            candidates.Add(Path.Combine(p, "images"));
            candidates.Add(Path.Combine(p, "JPEGImages"));
            candidates.Add(p);
            candidates.AddRange(Directory.GetDirectories(p).Order(StringComparer.Ordinal));
        }
        if (first is null) return candidates.FirstOrDefault(Directory.Exists) ?? dir;
        return candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, first)))
            ?? throw new BadInputException("missing-image-dir", json,
                $"the first listed image '{first}' is in none of {string.Join(", ", candidates.Distinct().Take(6))}");
    }

    /// <summary>The <c>file_name</c> of the first entry of <c>images</c>, read by streaming (COCO files can be large).</summary>
    private static string? FirstFileName(string json)
    {
        using var text = File.OpenText(json);
        using var reader = new JsonTextReader(text);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonToken.PropertyName && (string?)reader.Value == "images" && reader.Depth == 1)
                {
                    if (!reader.Read() || reader.TokenType != JsonToken.StartArray) return null;
                    int depth = reader.Depth;
                    while (reader.Read() && reader.Depth > depth)
                        if (reader.TokenType == JsonToken.PropertyName && (string?)reader.Value == "file_name" && reader.Read())
                            return reader.Value?.ToString();
                    return null;
                }
            }
        }
        catch (JsonReaderException e)
        {
            throw new BadInputException("malformed-json", json, $"line {e.LineNumber}, position {e.LinePosition}: {e.Message}");
        }
        return null;
    }
}
