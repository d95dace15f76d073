namespace Man.Vision.Data.Records;

/// <summary>One semantic segmentation sample: an image and its label png.</summary>
/// <param name="ImagePath">The image file.</param>
/// <param name="LabelPath">The label image (palette indices or grey values as stored).</param>
/// <param name="Name">A short name for messages (VOC id, file stem).</param>
public sealed record LabelImageRecord(string ImagePath, string LabelPath, string Name);
