using Man.Vision.Data.Loading;
using Man.Vision.Data.Records;
using static TorchSharp.torch;

namespace Man.Vision.Data.Batching;

/// <summary>
/// A batch of detection samples: <c>images [B, 3, H, W]</c> float32 zero-padded at the bottom and right to a multiple
/// of the size divisor, the real sizes of each image, and one <see cref="DetectionTarget"/> per image.
/// </summary>
public sealed class DetectionBatch : ILoaderBatch, ICountedBatch
{
    /// <summary>Creates a batch.</summary>
    public DetectionBatch(Tensor images, IReadOnlyList<(int Height, int Width)> imageSizes, IReadOnlyList<DetectionTarget> targets, IReadOnlyList<ImageRecord> records)
    {
        if (imageSizes.Count != images.shape[0] || targets.Count != images.shape[0] || records.Count != images.shape[0])
            throw new ArgumentException("A detection batch needs one size, target and record per image.");
        Images = images;
        ImageSizes = imageSizes;
        Targets = targets;
        Records = records;
    }

    /// <summary><c>[B, 3, H, W]</c> float32.</summary>
    public Tensor Images { get; }

    /// <summary>The size of each image before padding (after the transforms).</summary>
    public IReadOnlyList<(int Height, int Width)> ImageSizes { get; }

    /// <summary>The targets, in image coordinates (padding does not move anything).</summary>
    public IReadOnlyList<DetectionTarget> Targets { get; }

    /// <summary>The records the samples came from.</summary>
    public IReadOnlyList<ImageRecord> Records { get; }

    /// <inheritdoc/>
    public int Count => ImageSizes.Count;

    /// <summary>Collates samples: pads images to a multiple of <paramref name="divisor"/> and keeps the targets.</summary>
    public static DetectionBatch Collate(IReadOnlyList<DetectionSample> samples, int divisor = BatchPadding.DefaultDivisor) => new(
        BatchPadding.PadStack(samples.Select(s => s.Image).ToArray(), divisor),
        samples.Select(s => (s.Height, s.Width)).ToArray(),
        samples.Select(s => s.Target).ToArray(),
        samples.Select(s => s.Record).ToArray());

    /// <inheritdoc/>
    public void DetachFromDisposeScope()
    {
        Images.DetachFromDisposeScope();
        foreach (var t in Targets) t.DetachFromDisposeScope();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Images.Dispose();
        foreach (var t in Targets) t.Dispose();
    }
}
