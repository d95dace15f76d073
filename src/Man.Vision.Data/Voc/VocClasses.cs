namespace Man.Vision.Data.Voc;

/// <summary>The 20 PASCAL VOC object classes in their standard order (labels 1..20; 0 is background).</summary>
public static class VocClasses
{
    /// <summary>aeroplane … tvmonitor, as torchvision and detectron2 list them.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    ];

    /// <summary>The name of the optional class list file in a VOC root: one class name per line, in label order.</summary>
    public const string LabelsFile = "labels.txt";
}
