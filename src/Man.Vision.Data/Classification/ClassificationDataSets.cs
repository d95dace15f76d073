using System.Text.RegularExpressions;
using Man.Vision.Data.Diagnostics;

namespace Man.Vision.Data.Classification;

/// <summary>Opens a classification data set from a specification string (the CLI's <c>--data</c>).</summary>
public static partial class ClassificationDataSets
{
    /// <summary>The names accepted before the colon, with what follows it.</summary>
    public static IReadOnlyDictionary<string, string> Names { get; } = new Dictionary<string, string>
    {
        ["cifar10"] = "cifar10:ARCHIVE.tar.gz — CIFAR-10 JPEGs laid out as cifar10/{train,test}/<class>/*.jpg",
        ["imagefolder"] = "imagefolder:DIR — one sub-folder per class; DIR/train + DIR/val (or test) give two splits",
        ["fashion-mnist"] = $"fashion-mnist[:DIR] — the four idx files, plain or .gz (default {FashionMnist.DebianDirectory})",
    };

    /// <summary>
    /// Opens <paramref name="spec"/>: <c>cifar10:PATH</c>, <c>imagefolder:DIR</c>, <c>fashion-mnist[:DIR]</c>, or a plain
    /// path that is recognised by its content (a <c>.tar.gz</c>/<c>.tgz</c> file → CIFAR-10, a folder with idx files →
    /// Fashion-MNIST, any other folder → ImageFolder).
    /// </summary>
    /// <param name="spec">The specification.</param>
    /// <param name="cacheDir">Decoded-data cache folder for archives (CIFAR-10); null for none.</param>
    /// <param name="log">Where repairs are counted; optional.</param>
    /// <exception cref="ArgumentException">An unknown name (the message lists the valid ones) or a missing path.</exception>
    /// <exception cref="BadInputException">The data itself is bad (see the readers).</exception>
    public static ClassificationSplits Open(string spec, string? cacheDir = null, BadInputLog? log = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        var m = NamedSpec().Match(spec);
        if (m.Success && !File.Exists(spec) && !Directory.Exists(spec))
        {
            string name = m.Groups["name"].Value.ToLowerInvariant();
            string path = m.Groups["path"].Value;
            return name switch
            {
                "cifar10" or "cifar-10" when path.Length > 0 => Cifar10.Load(path, cacheDir, log),
                "fashion-mnist" or "fashionmnist" => FashionMnist.Load(path.Length > 0 ? path : FashionMnist.DebianDirectory),
                "imagefolder" when path.Length > 0 => OpenImageFolder(path, log),
                "cifar10" or "cifar-10" or "imagefolder" => throw new ArgumentException($"'{spec}': {Names[name.Replace("cifar-10", "cifar10")]}; the path is missing.", nameof(spec)),
                _ => throw new ArgumentException($"Unknown data set '{name}' in '{spec}'. Valid: {ValidList()}.", nameof(spec)),
            };
        }
        if (File.Exists(spec))
        {
            if (spec.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || spec.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase))
                return Cifar10.Load(spec, cacheDir, log);
            throw new ArgumentException($"Cannot tell what data set the file '{spec}' is. Valid: {ValidList()}.", nameof(spec));
        }
        if (Directory.Exists(spec))
            return FashionMnist.IsIdxDirectory(spec) ? FashionMnist.Load(spec) : OpenImageFolder(spec, log);
        throw new ArgumentException($"'{spec}' is neither an existing file or folder nor a known data set. Valid: {ValidList()}.", nameof(spec));
    }

    /// <summary>
    /// An ImageFolder: when <paramref name="root"/> has a <c>train</c> sub-folder and a <c>val</c> or <c>test</c> one, these are
    /// the two splits (and must have the same classes); otherwise <paramref name="root"/> itself is the single split.
    /// </summary>
    /// <param name="root">The folder.</param>
    /// <param name="log">Policy for files the decoder cannot read (see <see cref="ImageFolderDataSet(string, BadInputLog?)"/>).</param>
    public static ClassificationSplits OpenImageFolder(string root, BadInputLog? log = null)
    {
        string train = Path.Combine(root, "train");
        string? test = new[] { "val", "test" }.Select(s => Path.Combine(root, s)).FirstOrDefault(Directory.Exists);
        if (!Directory.Exists(train) || test is null)
            return new ClassificationSplits(new ImageFolderDataSet(root, log), null);
        var trainSet = new ImageFolderDataSet(train, log);
        var testSet = new ImageFolderDataSet(test, log);
        if (!trainSet.Classes.SequenceEqual(testSet.Classes))
            throw new BadInputException("class-mismatch", test,
                $"the classes ({string.Join(", ", testSet.Classes)}) differ from those of {train} ({string.Join(", ", trainSet.Classes)}).");
        return new ClassificationSplits(trainSet, testSet);
    }

    private static string ValidList() => string.Join("; ", Names.Values);

    [GeneratedRegex(@"^(?<name>[A-Za-z][A-Za-z0-9-]*)(:(?<path>.*))?$")]
    private static partial Regex NamedSpec();
}
