namespace Man.Vision.Data.Records;

/// <summary>An object category.</summary>
/// <param name="Id">The id in the source file (COCO's <c>id</c>, 1..90 for COCO; VOC: the label).</param>
/// <param name="Name">The category name.</param>
/// <param name="Supercategory">COCO's supercategory, empty when unknown.</param>
public sealed record Category(int Id, string Name, string Supercategory = "");
