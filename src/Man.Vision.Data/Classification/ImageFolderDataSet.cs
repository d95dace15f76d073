using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Images;

namespace Man.Vision.Data.Classification;

/// <summary>
/// torchvision's <c>ImageFolder</c>: <c>root/&lt;class&gt;/**/&lt;image&gt;</c>, one sub-folder per class. Classes are the
/// sub-folder names sorted ordinally (as Python's <c>sorted</c>); images are the files with an image extension
/// (<see cref="ImageDecoder.Extensions"/>, case-insensitive) found recursively, sorted by path. Images are decoded on
/// <see cref="Load"/>, so sizes may differ (<see cref="FixedSize"/> is null).
/// </summary>
public sealed class ImageFolderDataSet : IClassificationDataSet
{
    private readonly (string Path, int Label)[] _items;

    /// <summary>Scans <paramref name="root"/>.</summary>
    /// <param name="root">The folder with one sub-folder per class.</param>
    /// <param name="log">Policy for image files the decoder cannot read (TIFF, PPM/PGM: <see cref="ImageDecoder.UnsupportedExtensions"/>):
    /// an error under <see cref="OnBad.Fail"/> (the default), left out and counted under <see cref="OnBad.Skip"/>.</param>
    /// <exception cref="BadInputException">The folder is missing, has no class sub-folders, a class folder has no image, or
    /// (under <see cref="OnBad.Fail"/>) an image has an unsupported format.</exception>
    public ImageFolderDataSet(string root, BadInputLog? log = null)
    {
        log ??= new BadInputLog(OnBad.Fail);
        ArgumentException.ThrowIfNullOrEmpty(root);
        if (!Directory.Exists(root))
            throw new BadInputException("missing-directory", root, "the image folder does not exist.");
        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>()
            .Order(StringComparer.Ordinal).ToArray();
        if (classes.Length == 0)
            throw new BadInputException("empty-directory", root, "the image folder has no class sub-folders (expected root/<class>/<image>).");
        var items = new List<(string, int)>();
        var empty = new List<string>();
        for (int c = 0; c < classes.Length; c++)
        {
            var all = Directory.EnumerateFiles(Path.Combine(root, classes[c]), "*", SearchOption.AllDirectories)
                .Order(StringComparer.Ordinal).ToArray();
            foreach (var f in all.Where(f => ImageDecoder.UnsupportedExtensions.Contains(Path.GetExtension(f))))
                log.Handle(new BadInputException("unsupported-format", f,
                    $"{Path.GetExtension(f)} images cannot be decoded (supported: {string.Join(" ", ImageDecoder.Extensions)}); convert the file or remove it."));
            var files = all.Where(ImageDecoder.HasImageExtension).ToArray();
            if (files.Length == 0) empty.Add(classes[c]);
            items.AddRange(files.Select(f => (f, c)));
        }
        if (empty.Count > 0)
            throw new BadInputException("empty-class", root,
                $"no image file (extensions {string.Join(" ", ImageDecoder.Extensions)}) in the class folder(s) {string.Join(", ", empty)}.");
        Root = root;
        Classes = classes;
        _items = [.. items];
    }

    /// <summary>The root folder.</summary>
    public string Root { get; }

    /// <inheritdoc/>
    public string Name => $"imagefolder:{Root}";

    /// <inheritdoc/>
    public IReadOnlyList<string> Classes { get; }

    /// <inheritdoc/>
    public int Count => _items.Length;

    /// <inheritdoc/>
    public int Channels => 3;

    /// <inheritdoc/>
    public (int Width, int Height)? FixedSize => null;

    /// <inheritdoc/>
    public int LabelOf(int index) => _items[index].Label;

    /// <inheritdoc/>
    public string SourceOf(int index) => _items[index].Path;

    /// <inheritdoc/>
    public LabeledImage Load(int index, BadInputLog? log = null)
    {
        var (path, label) = _items[index];
        var img = ImageDecoder.Decode(path, log);
        return new LabeledImage(img.Pixels, img.Width, img.Height, 3, label, path);
    }
}
