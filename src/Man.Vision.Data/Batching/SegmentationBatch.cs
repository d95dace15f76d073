using Man.Vision.Data.Loading;
using Man.Vision.Data.Records;
using Man.Vision.Data.Segmentation;
using static TorchSharp.torch;

namespace Man.Vision.Data.Batching;

/// <summary>
/// A batch of segmentation samples: <c>images [B, 3, H, W]</c> float32 zero-padded and <c>labels [B, H, W]</c> int64
/// padded with 255 (ignore), both to a multiple of the size divisor, with the real sizes kept.
/// </summary>
public sealed class SegmentationBatch : ILoaderBatch, ICountedBatch
{
    /// <summary>Creates a batch.</summary>
    public SegmentationBatch(Tensor images, Tensor labels, IReadOnlyList<(int Height, int Width)> imageSizes, IReadOnlyList<LabelImageRecord> records)
    {
        if (labels.dim() != 3 || labels.shape[0] != images.shape[0] || labels.shape[1] != images.shape[2] || labels.shape[2] != images.shape[3])
            throw new ArgumentException("Segmentation labels must be [B, H, W] matching the images [B, 3, H, W].");
        Images = images;
        Labels = labels;
        ImageSizes = imageSizes;
        Records = records;
    }

    /// <summary><c>[B, 3, H, W]</c> float32.</summary>
    public Tensor Images { get; }

    /// <summary><c>[B, H, W]</c> int64, 0..C−1 or 255.</summary>
    public Tensor Labels { get; }

    /// <summary>The size of each sample before padding.</summary>
    public IReadOnlyList<(int Height, int Width)> ImageSizes { get; }

    /// <summary>The records the samples came from.</summary>
    public IReadOnlyList<LabelImageRecord> Records { get; }

    /// <inheritdoc/>
    public int Count => ImageSizes.Count;

    /// <summary>Collates samples, padding to a multiple of <paramref name="divisor"/> (image 0, label 255).</summary>
    public static SegmentationBatch Collate(IReadOnlyList<SegmentationSample> samples, int divisor = BatchPadding.DefaultDivisor) => new(
        BatchPadding.PadStack(samples.Select(s => s.Image).ToArray(), divisor),
        BatchPadding.PadStack(samples.Select(s => s.Label).ToArray(), divisor, LabelEncoding.Ignore),
        samples.Select(s => (s.Height, s.Width)).ToArray(),
        samples.Select(s => s.Record).ToArray());

    /// <inheritdoc/>
    public void DetachFromDisposeScope()
    {
        Images.DetachFromDisposeScope();
        Labels.DetachFromDisposeScope();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
