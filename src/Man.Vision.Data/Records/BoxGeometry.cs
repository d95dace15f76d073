using static TorchSharp.torch;

namespace Man.Vision.Data.Records;

/// <summary>Stateless box operations on tensors <c>[N, 4]</c> used by the data transforms (the task projects own IoU/NMS).</summary>
public static class BoxGeometry
{
    /// <summary><c>[N, 4]</c> xywh → xyxy.</summary>
    public static Tensor XywhToXyxy(Tensor xywh)
    {
        var xy = xywh[.., ..2];
        return cat([xy, xy + xywh[.., 2..]], 1);
    }

    /// <summary><c>[N, 4]</c> xyxy → xywh.</summary>
    public static Tensor XyxyToXywh(Tensor xyxy)
    {
        var xy = xyxy[.., ..2];
        return cat([xy, xyxy[.., 2..] - xy], 1);
    }

    /// <summary>Boxes <c>[N, 4]</c> xyxy clipped to an image of <paramref name="height"/>×<paramref name="width"/> (torchvision <c>clip_boxes_to_image</c>).</summary>
    public static Tensor Clip(Tensor boxes, int height, int width)
    {
        var x = boxes[.., TensorIndex.Slice(0, null, 2)].clamp(0, width);
        var y = boxes[.., TensorIndex.Slice(1, null, 2)].clamp(0, height);
        return stack([x[.., 0], y[.., 0], x[.., 1], y[.., 1]], 1);
    }

    /// <summary>A bool mask <c>[N]</c> of boxes whose width and height are both at least <paramref name="minSize"/> and positive (torchvision <c>remove_small_boxes</c>).</summary>
    public static Tensor NonDegenerate(Tensor boxes, double minSize = 0)
    {
        var w = boxes[.., 2] - boxes[.., 0];
        var h = boxes[.., 3] - boxes[.., 1];
        var keep = w.gt(0).logical_and(h.gt(0));
        return minSize > 0 ? keep.logical_and(w.ge(minSize)).logical_and(h.ge(minSize)) : keep;
    }

    /// <summary>Areas <c>[N]</c> of xyxy boxes.</summary>
    public static Tensor Area(Tensor boxes) => (boxes[.., 2] - boxes[.., 0]) * (boxes[.., 3] - boxes[.., 1]);

    /// <summary>Boxes mirrored left–right in an image of width <paramref name="width"/>.</summary>
    public static Tensor FlipHorizontal(Tensor boxes, int width)
    {
        var x1 = boxes[.., 0];
        var x2 = boxes[.., 2];
        return stack([width - x2, boxes[.., 1], width - x1, boxes[.., 3]], 1);
    }

    /// <summary>Boxes scaled by <paramref name="sx"/> in x and <paramref name="sy"/> in y (torchvision <c>resize_boxes</c> ratios).</summary>
    public static Tensor Scale(Tensor boxes, double sx, double sy)
    {
        using var f = tensor(new float[] { (float)sx, (float)sy, (float)sx, (float)sy });
        return boxes * f;
    }
}
