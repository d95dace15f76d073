using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Data.Records;

/// <summary>
/// The ground truth of one image as tensors, torchvision's detection target dict:
/// <c>boxes [N, 4]</c> float32 xyxy in pixels of the (transformed) image, <c>labels [N]</c> int64 (1..C),
/// <c>masks [N, H, W]</c> uint8 0/1 (optional), <c>iscrowd [N]</c> int64, <c>area [N]</c> float32, plus VOC's
/// <c>difficult [N]</c> bool and the image id.
/// </summary>
/// <remarks>Rows of every tensor belong together; <see cref="Select"/> keeps them aligned.</remarks>
public sealed class DetectionTarget : IDisposable
{
    /// <summary>Creates a target; shapes are validated.</summary>
    /// <exception cref="ArgumentException">The row counts disagree or a tensor has the wrong rank.</exception>
    public DetectionTarget(Tensor boxes, Tensor labels, Tensor? masks, Tensor isCrowd, Tensor area, Tensor difficult, long imageId)
    {
        long n = boxes.shape[0];
        if (boxes.dim() != 2 || boxes.shape[1] != 4) throw new ArgumentException($"boxes must be [N, 4], got [{string.Join(", ", boxes.shape)}].");
        if (labels.shape.Length != 1 || labels.shape[0] != n) throw new ArgumentException($"labels must be [{n}], got [{string.Join(", ", labels.shape)}].");
        if (isCrowd.shape.Length != 1 || isCrowd.shape[0] != n) throw new ArgumentException($"iscrowd must be [{n}].");
        if (area.shape.Length != 1 || area.shape[0] != n) throw new ArgumentException($"area must be [{n}].");
        if (difficult.shape.Length != 1 || difficult.shape[0] != n) throw new ArgumentException($"difficult must be [{n}].");
        if (masks is not null && (masks.dim() != 3 || masks.shape[0] != n)) throw new ArgumentException($"masks must be [{n}, H, W], got [{string.Join(", ", masks.shape)}].");
        Boxes = boxes;
        Labels = labels;
        Masks = masks;
        IsCrowd = isCrowd;
        Area = area;
        Difficult = difficult;
        ImageId = imageId;
    }

    /// <summary><c>[N, 4]</c> float32, xyxy.</summary>
    public Tensor Boxes { get; }

    /// <summary><c>[N]</c> int64, 1..C.</summary>
    public Tensor Labels { get; }

    /// <summary><c>[N, H, W]</c> uint8 0/1 at the image's size, or null when masks were not loaded.</summary>
    public Tensor? Masks { get; }

    /// <summary><c>[N]</c> int64 0/1.</summary>
    public Tensor IsCrowd { get; }

    /// <summary><c>[N]</c> float32: the annotation area, scaled with the image.</summary>
    public Tensor Area { get; }

    /// <summary><c>[N]</c> bool: VOC's difficult flag.</summary>
    public Tensor Difficult { get; }

    /// <summary>The image id of the record.</summary>
    public long ImageId { get; }

    /// <summary>N, the number of objects.</summary>
    public int Count => (int)Boxes.shape[0];

    /// <summary>A target with the rows of <paramref name="keep"/> (a bool mask <c>[N]</c> or int64 indices).</summary>
    public DetectionTarget Select(Tensor keep) => new(
        Boxes[keep], Labels[keep], Masks?[keep], IsCrowd[keep], Area[keep], Difficult[keep], ImageId);

    /// <summary>A target with the given tensors replaced (the others shared).</summary>
    public DetectionTarget With(Tensor? boxes = null, Tensor? masks = null, Tensor? area = null) =>
        new(boxes ?? Boxes, Labels, masks ?? Masks, IsCrowd, area ?? Area, Difficult, ImageId);

    /// <summary>Takes every tensor out of the current dispose scope (the loader calls this for a finished batch).</summary>
    public void DetachFromDisposeScope()
    {
        Boxes.DetachFromDisposeScope();
        Labels.DetachFromDisposeScope();
        Masks?.DetachFromDisposeScope();
        IsCrowd.DetachFromDisposeScope();
        Area.DetachFromDisposeScope();
        Difficult.DetachFromDisposeScope();
    }

    /// <summary>Moves every tensor to <paramref name="device"/> (a new target; this one is unchanged).</summary>
    public DetectionTarget To(Device device) => new(
        Boxes.to(device), Labels.to(device), Masks?.to(device), IsCrowd.to(device), Area.to(device), Difficult.to(device), ImageId);

    /// <inheritdoc/>
    public void Dispose()
    {
        Boxes.Dispose();
        Labels.Dispose();
        Masks?.Dispose();
        IsCrowd.Dispose();
        Area.Dispose();
        Difficult.Dispose();
    }

    /// <summary>A target with no objects (a negative image).</summary>
    public static DetectionTarget Empty(long imageId, int height = 0, int width = 0, bool withMasks = false) => new(
        torch.zeros(0, 4, ScalarType.Float32), torch.zeros(0, ScalarType.Int64), withMasks ? torch.zeros(0, height, width, ScalarType.Byte) : null,
        torch.zeros(0, ScalarType.Int64), torch.zeros(0, ScalarType.Float32), torch.zeros(0, ScalarType.Bool), imageId);
}
