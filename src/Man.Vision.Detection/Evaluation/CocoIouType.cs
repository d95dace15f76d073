namespace Man.Vision.Detection.Evaluation;

/// <summary>What COCO evaluation compares (pycocotools' <c>iouType</c>).</summary>
public enum CocoIouType
{
    /// <summary>Boxes: xywh IoU.</summary>
    Bbox,

    /// <summary>Masks: run-length encoded mask IoU; ground-truth polygons are rasterised as pycocotools does.</summary>
    Segm,
}
