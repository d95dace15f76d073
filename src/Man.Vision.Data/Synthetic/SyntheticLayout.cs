namespace Man.Vision.Data.Synthetic;

/// <summary>
/// Where <see cref="SyntheticDataWriter"/> puts its files (a VOC-style root that also holds COCO json):
/// <code>
/// JPEGImages/000001.png                 images (PNG, lossless)
/// Annotations/000001.xml                VOC detection xml
/// SegmentationClass/000001.png          VOC-palette label png: 0 background, 1..C shape classes
/// ImageSets/Main/{train,val,trainval}.txt, ImageSets/Segmentation/{train,val,trainval}.txt
/// coco/instances_{train,val}.json       COCO instances with RLE masks (compressed strings)
/// labels.txt                            class names in label order
/// </code>
/// </summary>
public static class SyntheticLayout
{
    /// <summary>The image folder.</summary>
    public static string ImageDir(string root) => Path.Combine(root, "JPEGImages");

    /// <summary>The COCO json of a split ("train" or "val").</summary>
    public static string CocoJson(string root, string split) => Path.Combine(root, "coco", $"instances_{split}.json");

    /// <summary>The label png folder.</summary>
    public static string LabelDir(string root) => Path.Combine(root, "SegmentationClass");

    /// <summary>The splits written.</summary>
    public static IReadOnlyList<string> Splits { get; } = ["train", "val"];
}
