namespace Man.Vision.Data.Records;

/// <summary>One image of a data set and its annotations, format-independent (detectron2's dataset dict).</summary>
/// <param name="Id">The image id (COCO's <c>id</c>; VOC and label-png sets number images from 0).</param>
/// <param name="FilePath">The image file.</param>
/// <param name="Width">Width in pixels, as the annotation file (or, when it lacks it, the image) says.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Objects">The annotated objects; empty for a negative image.</param>
public sealed record ImageRecord(long Id, string FilePath, int Width, int Height, IReadOnlyList<ObjectAnnotation> Objects)
{
    /// <summary>The label image of a semantic segmentation sample, null for detection.</summary>
    public string? LabelPath { get; init; }

    /// <summary>A short name for messages and predictions (VOC id, COCO file name).</summary>
    public string Name { get; init; } = "";
}
