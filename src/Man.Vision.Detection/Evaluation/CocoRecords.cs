using Man.Vision.Data.Masks;
namespace Man.Vision.Detection.Evaluation;

/// <summary>An image of a COCO ground-truth file (only what evaluation needs).</summary>
/// <param name="Id">The image id (<c>images[].id</c>).</param>
/// <param name="Width">Width in pixels, 0 when the file does not say.</param>
/// <param name="Height">Height in pixels, 0 when the file does not say.</param>
/// <param name="FileName">The file name, when given.</param>
public sealed record CocoImage(long Id, int Width = 0, int Height = 0, string? FileName = null);

/// <summary>A category of a COCO ground-truth file.</summary>
/// <param name="Id">The category id (<c>categories[].id</c>).</param>
/// <param name="Name">The category name.</param>
public sealed record CocoCategory(long Id, string Name);

/// <summary>
/// A ground-truth object of a COCO instances file. The box is COCO's <c>[x, y, w, h]</c> in pixels; <see cref="Area"/>
/// is the file's <c>area</c> field (the segment's area, not the box's), which decides the small/medium/large range.
/// </summary>
public sealed record CocoAnnotation(long Id, long ImageId, long CategoryId, double X, double Y, double Width, double Height, double Area, bool IsCrowd)
{
    /// <summary>The object's polygons or mask, needed only for mask (<c>segm</c>) evaluation.</summary>
    public CocoSegmentation? Segmentation { get; init; }
}

/// <summary>
/// One detection in COCO's result format: <c>{"image_id", "category_id", "bbox": [x, y, w, h], "score"}</c>, with an
/// optional mask (<c>"segmentation"</c>) for mask evaluation.
/// </summary>
public sealed record CocoDetection(long ImageId, long CategoryId, double X, double Y, double Width, double Height, double Score)
{
    /// <summary>
    /// The area that decides the area ranges: <c>w·h</c> by default, as pycocotools' <c>loadRes</c> sets it for box
    /// results; the mask area for mask results without a box.
    /// </summary>
    public double Area
    {
        get => _area ?? Width * Height;
        init => _area = value;
    }

    private readonly double? _area;

    /// <summary>The detected mask for mask (<c>segm</c>) evaluation, or null.</summary>
    public Rle? Mask { get; init; }
}
