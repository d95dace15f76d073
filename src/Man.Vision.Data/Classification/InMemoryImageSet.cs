namespace Man.Vision.Data.Classification;

/// <summary>
/// A classification data set held in memory as one byte array of equally sized images (CIFAR-10, Fashion-MNIST):
/// <c>Count × Height × Width × Channels</c> bytes, HWC per image.
/// </summary>
public sealed class InMemoryImageSet : IClassificationDataSet
{
    private readonly byte[] _pixels;
    private readonly int[] _labels;
    private readonly string _source;
    private readonly Func<int, string>? _sourceOf;

    /// <summary>Creates the set; the arrays are used as they are (not copied).</summary>
    /// <param name="name">The set's name.</param>
    /// <param name="classes">Class names.</param>
    /// <param name="pixels"><c>labels.Length × height × width × channels</c> bytes.</param>
    /// <param name="labels">One label per image, each in <c>0..classes.Count-1</c>.</param>
    /// <param name="width">Image width.</param>
    /// <param name="height">Image height.</param>
    /// <param name="channels">1 or 3.</param>
    /// <param name="source">The file the images came from; <see cref="SourceOf"/> gives <c>source#index</c> unless <paramref name="sourceOf"/> is given.</param>
    /// <param name="sourceOf">Optional per-image source names (e.g. archive entries).</param>
    public InMemoryImageSet(string name, IReadOnlyList<string> classes, byte[] pixels, int[] labels, int width, int height, int channels,
        string source, Func<int, string>? sourceOf = null)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "Channels must be 1 or 3.");
        if (width <= 0 || height <= 0) throw new ArgumentException($"Image size must be positive, got {width}x{height}.");
        if (pixels.LongLength != (long)labels.Length * width * height * channels)
            throw new ArgumentException($"{labels.Length} images of {width}x{height}x{channels} need {(long)labels.Length * width * height * channels} bytes, got {pixels.LongLength}.", nameof(pixels));
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classes.Count)
                throw new ArgumentException($"{source}: label {labels[i]} of image {i} is outside 0..{classes.Count - 1}.", nameof(labels));
        Name = name;
        Classes = classes.ToArray();
        _pixels = pixels;
        _labels = labels;
        Width = width;
        Height = height;
        Channels = channels;
        _source = source;
        _sourceOf = sourceOf;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> Classes { get; }

    /// <inheritdoc/>
    public int Count => _labels.Length;

    /// <inheritdoc/>
    public int Channels { get; }

    /// <summary>Width of every image.</summary>
    public int Width { get; }

    /// <summary>Height of every image.</summary>
    public int Height { get; }

    /// <inheritdoc/>
    public (int Width, int Height)? FixedSize => (Width, Height);

    /// <summary>Bytes per image (<c>Height·Width·Channels</c>).</summary>
    public int ImageBytes => Width * Height * Channels;

    /// <summary>All labels, in index order.</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>All pixels, <c>Count·Height·Width·Channels</c> bytes (HWC per image).</summary>
    public ReadOnlySpan<byte> Pixels => _pixels;

    /// <inheritdoc/>
    public int LabelOf(int index) => _labels[index];

    /// <inheritdoc/>
    public string SourceOf(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        return _sourceOf?.Invoke(index) ?? $"{_source}#{index}";
    }

    /// <summary>The pixels of image <paramref name="index"/> (HWC), without copying.</summary>
    public ReadOnlySpan<byte> ImageSpan(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        return _pixels.AsSpan(index * ImageBytes, ImageBytes);
    }

    /// <inheritdoc/>
    public LabeledImage Load(int index, Diagnostics.BadInputLog? log = null)
        => new(ImageSpan(index).ToArray(), Width, Height, Channels, _labels[index], SourceOf(index));
}
