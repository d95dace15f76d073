namespace Man.Vision.Detection.Ops;

/// <summary>How the four numbers of a box are laid out.</summary>
public enum BoxFormat
{
    /// <summary>Corners: (x1, y1, x2, y2), x1 ≤ x2 and y1 ≤ y2 (torchvision's "xyxy", the format used everywhere in this library).</summary>
    Xyxy,

    /// <summary>Top-left corner and size: (x, y, w, h) (COCO's "bbox").</summary>
    Xywh,

    /// <summary>Centre and size: (cx, cy, w, h).</summary>
    Cxcywh,
}
