namespace Man.Vision.Data.Records;

/// <summary>An axis-aligned box in absolute pixel coordinates, corners <c>(x1, y1)</c> top-left and <c>(x2, y2)</c> bottom-right (torchvision's xyxy).</summary>
/// <param name="X1">Left edge.</param>
/// <param name="Y1">Top edge.</param>
/// <param name="X2">Right edge (exclusive in the continuous sense: width = x2 − x1).</param>
/// <param name="Y2">Bottom edge.</param>
public readonly record struct BoxXyxy(double X1, double Y1, double X2, double Y2)
{
    /// <summary>x2 − x1 (negative for an inverted box).</summary>
    public double Width => X2 - X1;

    /// <summary>y2 − y1 (negative for an inverted box).</summary>
    public double Height => Y2 - Y1;

    /// <summary>Width·height, 0 when the box is degenerate.</summary>
    public double Area => IsDegenerate ? 0 : Width * Height;

    /// <summary>True when the box has no positive width or height (x2 ≤ x1 or y2 ≤ y1), or a coordinate is not finite.</summary>
    public bool IsDegenerate => !(X2 > X1 && Y2 > Y1) || !double.IsFinite(X1 + Y1 + X2 + Y2);

    /// <summary>A box from COCO's <c>[x, y, w, h]</c>.</summary>
    public static BoxXyxy FromXywh(double x, double y, double w, double h) => new(x, y, x + w, y + h);

    /// <summary>This box as COCO's <c>[x, y, w, h]</c>.</summary>
    public (double X, double Y, double W, double H) ToXywh() => (X1, Y1, X2 - X1, Y2 - Y1);

    /// <summary>The box clipped to an image of <paramref name="width"/>×<paramref name="height"/> (torchvision <c>clip_boxes_to_image</c>).</summary>
    public BoxXyxy Clip(double width, double height) =>
        new(Math.Clamp(X1, 0, width), Math.Clamp(Y1, 0, height), Math.Clamp(X2, 0, width), Math.Clamp(Y2, 0, height));

    /// <summary>True when the box lies inside the image (edges on the border included).</summary>
    public bool IsInside(double width, double height) => X1 >= 0 && Y1 >= 0 && X2 <= width && Y2 <= height;

    /// <summary>The box scaled by <paramref name="sx"/> horizontally and <paramref name="sy"/> vertically.</summary>
    public BoxXyxy Scale(double sx, double sy) => new(X1 * sx, Y1 * sy, X2 * sx, Y2 * sy);

    /// <summary>The box moved by (<paramref name="dx"/>, <paramref name="dy"/>).</summary>
    public BoxXyxy Translate(double dx, double dy) => new(X1 + dx, Y1 + dy, X2 + dx, Y2 + dy);

    /// <summary>The box mirrored left–right in an image of width <paramref name="imageWidth"/>: <c>x1' = W − x2</c>, <c>x2' = W − x1</c>.</summary>
    public BoxXyxy FlipHorizontal(double imageWidth) => new(imageWidth - X2, Y1, imageWidth - X1, Y2);

    /// <summary>Intersection over union with another box (continuous coordinates, no +1), 0 when either is empty.</summary>
    public double Iou(BoxXyxy other)
    {
        double w = Math.Min(X2, other.X2) - Math.Max(X1, other.X1);
        double h = Math.Min(Y2, other.Y2) - Math.Max(Y1, other.Y1);
        if (w <= 0 || h <= 0) return 0;
        double inter = w * h;
        return inter / (Area + other.Area - inter);
    }

    /// <inheritdoc/>
    public override string ToString() => $"[{X1:0.##}, {Y1:0.##}, {X2:0.##}, {Y2:0.##}]";
}
