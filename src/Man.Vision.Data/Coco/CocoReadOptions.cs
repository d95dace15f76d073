using Man.Vision.Data.Diagnostics;

namespace Man.Vision.Data.Coco;

/// <summary>How <see cref="CocoReader"/> reads an <c>instances_*.json</c> file.</summary>
/// <param name="OnBad">What to do with an image or annotation that cannot be used (the default fails).</param>
/// <param name="CheckImageFiles">Check that every listed image file exists (a missing one is bad input).</param>
/// <param name="LoadMasks">Keep the segmentation of each annotation (polygons or RLE); false keeps boxes only.</param>
public sealed record CocoReadOptions(OnBad OnBad = OnBad.Fail, bool CheckImageFiles = true, bool LoadMasks = true);
