namespace Man.Vision.Data.Records;

/// <summary>One annotated object of an image, format-independent.</summary>
/// <param name="Box">The box, xyxy in pixels of the original image.</param>
/// <param name="Label">The contiguous label, 1..C (0 is background, as torchvision's detection models).</param>
/// <param name="CategoryId">The category id of the source file (COCO's <c>category_id</c>; for VOC the label).</param>
/// <param name="IsCrowd">COCO's <c>iscrowd</c>: a crowd region, ignored by training and by COCO evaluation.</param>
/// <param name="Area">COCO's <c>area</c> (mask area), or the box area when the source has none.</param>
/// <param name="Mask">The instance mask, when the source has one.</param>
public sealed record ObjectAnnotation(BoxXyxy Box, int Label, int CategoryId, bool IsCrowd, double Area, MaskAnnotation? Mask = null)
{
    /// <summary>VOC's <c>difficult</c> flag: neither a true nor a false positive in VOC evaluation.</summary>
    public bool Difficult { get; init; }

    /// <summary>The annotation's id in the source file (COCO's <c>id</c>), 0 when the source has none.</summary>
    public long Id { get; init; }
}
