namespace Man.Vision.Data.Classification;

/// <summary>
/// A classification data set: <see cref="Count"/> images with labels in <c>0..Classes.Count-1</c>
/// (torchvision's <c>(image, target)</c> contract). Implementations are safe for concurrent <see cref="Load"/> calls.
/// </summary>
public interface IClassificationDataSet
{
    /// <summary>A short description, e.g. <c>cifar10:train (/data/cifar10-jpeg.tar.gz)</c>.</summary>
    string Name { get; }

    /// <summary>The class names; the label of a class is its position here.</summary>
    IReadOnlyList<string> Classes { get; }

    /// <summary>The number of images.</summary>
    int Count { get; }

    /// <summary>Channels of the stored images: 1 (grayscale) or 3 (RGB).</summary>
    int Channels { get; }

    /// <summary>The size every image has, or null when sizes differ (then a resize/crop is needed to batch them).</summary>
    (int Width, int Height)? FixedSize { get; }

    /// <summary>The label of image <paramref name="index"/> (cheap: no decoding).</summary>
    int LabelOf(int index);

    /// <summary>Where image <paramref name="index"/> comes from (for messages).</summary>
    string SourceOf(int index);

    /// <summary>Loads (decodes) image <paramref name="index"/>.</summary>
    /// <param name="index">0..Count-1.</param>
    /// <param name="log">Where documented repairs (e.g. grayscale converted) are counted; optional.</param>
    /// <exception cref="Diagnostics.BadInputException">The image cannot be read.</exception>
    LabeledImage Load(int index, Diagnostics.BadInputLog? log = null);
}
