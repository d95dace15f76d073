using System.Globalization;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Segmentation;
using Man.Vision.Data.Synthetic;

namespace Man.Vision.Segmentation.Training;

/// <summary>
/// A segmentation data set opened from the CLI's <c>--data</c> value: its training and evaluation splits (image/label png
/// records and the label encoding with the class names).
/// </summary>
/// <param name="Spec">The specification it was opened from.</param>
/// <param name="Train">The training split.</param>
/// <param name="Val">The evaluation split.</param>
public sealed record SegmentationDataSource(string Spec, SegmentationDataset Train, SegmentationDataset Val)
{
    /// <summary>The data set names <see cref="Open"/> knows.</summary>
    public static IReadOnlyList<string> Names { get; } = ["synth", "camvid", "voc", "cityscapes"];

    /// <summary>Images the synthetic default renders (train and val together).</summary>
    public const int SynthDefaultImages = 400;

    /// <summary>Side of the synthetic default's images.</summary>
    public const int SynthDefaultSize = 128;

    /// <summary>Class names, in label order.</summary>
    public IReadOnlyList<string> Classes => Train.Encoding.ClassNames;

    /// <summary>Number of classes.</summary>
    public int NumClasses => Train.NumClasses;

    /// <summary>
    /// Opens <paramref name="spec"/>:
    /// <list type="bullet">
    /// <item><c>synth</c> or <c>synth:n=400,size=128,seed=0</c>: the embedded synthetic shapes (background + 5 shapes), rendered
    /// once into <paramref name="cacheRoot"/> (default <see cref="DefaultCacheRoot"/>) and reused;</item>
    /// <item><c>camvid:DIR</c> (SegNet layout, 11 classes, void ignored), <c>voc:DIR</c> (SegmentationClass, 21 classes),
    /// <c>cityscapes:DIR</c> (gtFine labelIds → 19 train ids).</item>
    /// </list>
    /// </summary>
    /// <param name="spec">The data set.</param>
    /// <param name="trainSplit">Split used for training ("train").</param>
    /// <param name="valSplit">Split used for evaluation ("val").</param>
    /// <param name="cacheRoot">Where synthetic data is rendered; null for <see cref="DefaultCacheRoot"/>.</param>
    /// <exception cref="ArgumentException">Unknown name (the valid ones are listed) or a malformed specification.</exception>
    /// <exception cref="BadInputException">A split list, image or label file is missing (the file is named).</exception>
    public static SegmentationDataSource Open(string spec, string trainSplit = "train", string valSplit = "val", string? cacheRoot = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        string s = spec.Trim();
        int colon = s.IndexOf(':', StringComparison.Ordinal);
        string name = (colon < 0 ? s : s[..colon]).ToLowerInvariant();
        string arg = colon < 0 ? "" : s[(colon + 1)..];
        switch (name)
        {
            case "synth":
                {
                    string root = EnsureSynthetic(arg, cacheRoot ?? DefaultCacheRoot());
                    return new SegmentationDataSource(s, SegmentationReader.ReadVoc(root, trainSplit), SegmentationReader.ReadVoc(root, valSplit));
                }
            case "camvid":
            case "voc":
            case "cityscapes":
                {
                    if (arg.Length == 0) throw new ArgumentException($"--data {name} needs its folder: {name}:DIR.");
                    if (!Directory.Exists(arg)) throw new DirectoryNotFoundException($"The {name} folder '{arg}' does not exist.");
                    return new SegmentationDataSource(s, SegmentationReader.Read(name, arg, trainSplit), SegmentationReader.Read(name, arg, valSplit));
                }
            default:
                throw new ArgumentException($"Unknown segmentation data set '{name}' in --data {spec}. Valid: synth[:n=N,size=S,seed=K], camvid:DIR, voc:DIR, cityscapes:DIR.");
        }
    }

    /// <summary>Keeps only the first <paramref name="trainImages"/> training and <paramref name="valImages"/> evaluation images (0 keeps all).</summary>
    public SegmentationDataSource Limit(int trainImages, int valImages)
    {
        if (trainImages < 0 || valImages < 0) throw new ArgumentException($"Image limits must be non-negative (got {trainImages}, {valImages}).");
        return this with
        {
            Train = trainImages > 0 && trainImages < Train.Samples.Count ? Train with { Samples = Train.Samples.Take(trainImages).ToList() } : Train,
            Val = valImages > 0 && valImages < Val.Samples.Count ? Val with { Samples = Val.Samples.Take(valImages).ToList() } : Val,
        };
    }

    /// <summary><c>$XDG_CACHE_HOME/man-vision</c>, or <c>~/.cache/man-vision</c>.</summary>
    public static string DefaultCacheRoot()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string baseDir = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(baseDir, "man-vision");
    }

    /// <summary>
    /// Renders the synthetic segmentation set described by <paramref name="arg"/> ("n=…,size=…,seed=…", any subset) under
    /// <paramref name="cacheRoot"/> unless it is there already; returns its folder. Rendering goes to a temporary folder
    /// that is moved into place, so an interrupted run never leaves half a data set behind.
    /// </summary>
    public static string EnsureSynthetic(string arg, string cacheRoot)
    {
        int n = SynthDefaultImages, size = SynthDefaultSize, seed = 0;
        foreach (var part in arg.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length != 2 || !int.TryParse(kv[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
                throw new ArgumentException($"--data synth:{arg}: '{part}' is not key=integer (keys n, size, seed).");
            switch (kv[0].ToLowerInvariant())
            {
                case "n": n = v; break;
                case "size": size = v; break;
                case "seed": seed = v; break;
                default: throw new ArgumentException($"--data synth:{arg}: unknown key '{kv[0]}' (keys n, size, seed).");
            }
        }
        if (n < 10) throw new ArgumentException($"--data synth: n must be at least 10 images (got {n}).");
        if (size is < 32 or > 1024) throw new ArgumentException($"--data synth: size must lie in 32..1024 (got {size}).");
        string root = Path.Combine(cacheRoot, string.Create(CultureInfo.InvariantCulture, $"synth-segment-{seed}-{n}-{size}px"));
        if (File.Exists(Path.Combine(root, "labels.txt"))) return root;
        var defaults = SyntheticOptions.For(SyntheticTask.Segment);
        double f = size / 256.0;
        var options = defaults with
        {
            Width = size,
            Height = size,
            MinSize = Math.Max(6, (int)Math.Round(defaults.MinSize * f)),
            MaxSize = Math.Min(size, (int)Math.Round(defaults.MaxSize * f)),
        };
        Directory.CreateDirectory(cacheRoot);
        string tmp = root + $".tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            SyntheticDataWriter.Write(SyntheticTask.Segment, tmp, n, seed, options);
            try
            {
                Directory.Move(tmp, root);
            }
            catch (IOException) when (File.Exists(Path.Combine(root, "labels.txt")))
            {
                // Another process rendered the same set first; theirs is identical.
            }
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
        return root;
    }
}
