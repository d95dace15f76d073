using Man.Vision.Data.Diagnostics;

namespace Man.Vision.Data.Classification;

/// <summary>
/// Fashion-MNIST (and MNIST, same format) from its four idx files, plain or gzipped:
/// <c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c>,
/// <c>t10k-labels-idx1-ubyte</c> (each optionally with <c>.gz</c>). Images are 28×28 grayscale (1 channel).
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the files.</summary>
    public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The class names in torchvision's order.</summary>
    public static IReadOnlyList<string> Classes { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>True when <paramref name="directory"/> holds the four idx files (plain or gzipped).</summary>
    public static bool IsIdxDirectory(string directory)
        => Directory.Exists(directory) && new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" }
            .All(f => Find(directory, f) is not null);

    /// <summary>Loads both splits (60,000 / 10,000 for Fashion-MNIST).</summary>
    /// <param name="directory">The folder with the idx files.</param>
    /// <param name="classes">Class names; Fashion-MNIST's by default (pass digits for MNIST).</param>
    /// <exception cref="BadInputException">A file is missing, has a wrong magic number, is truncated, the image and label
    /// counts differ, or a label is out of range.</exception>
    public static ClassificationSplits Load(string directory = DebianDirectory, IReadOnlyList<string>? classes = null)
    {
        classes ??= Classes;
        if (!Directory.Exists(directory))
            throw new BadInputException("missing-directory", directory, "the Fashion-MNIST folder does not exist (Debian: apt install dataset-fashion-mnist).");
        return new ClassificationSplits(
            LoadSplit(directory, "train", "fashion-mnist:train", classes),
            LoadSplit(directory, "t10k", "fashion-mnist:test", classes));
    }

    private static InMemoryImageSet LoadSplit(string directory, string prefix, string name, IReadOnlyList<string> classes)
    {
        string images = Find(directory, $"{prefix}-images-idx3-ubyte")
            ?? throw new BadInputException("missing-file", Path.Combine(directory, $"{prefix}-images-idx3-ubyte[.gz]"), "the idx images file does not exist.");
        string labelsPath = Find(directory, $"{prefix}-labels-idx1-ubyte")
            ?? throw new BadInputException("missing-file", Path.Combine(directory, $"{prefix}-labels-idx1-ubyte[.gz]"), "the idx labels file does not exist.");
        var (pixels, dims) = IdxFile.Read(images, IdxFile.ImagesMagic);
        var (labelBytes, ldims) = IdxFile.Read(labelsPath, IdxFile.LabelsMagic);
        if (dims[0] != ldims[0])
            throw new BadInputException("count-mismatch", labelsPath, $"{ldims[0]} labels for {dims[0]} images in {images}.");
        var labels = new int[labelBytes.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = labelBytes[i];
            if (labels[i] >= classes.Count)
                throw new BadInputException("label-out-of-range", labelsPath, $"label {labels[i]} of item {i} is outside 0..{classes.Count - 1}.");
        }
        return new InMemoryImageSet($"{name} ({directory})", classes, pixels, labels, dims[2], dims[1], 1, images);
    }

    private static string? Find(string directory, string stem)
    {
        foreach (var candidate in new[] { stem, stem + ".gz", stem.Replace("-idx", ".idx", StringComparison.Ordinal), stem.Replace("-idx", ".idx", StringComparison.Ordinal) + ".gz" })
        {
            string p = Path.Combine(directory, candidate);
            if (File.Exists(p)) return p;
        }
        return null;
    }
}
