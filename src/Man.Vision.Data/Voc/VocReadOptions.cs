using Man.Vision.Data.Diagnostics;

namespace Man.Vision.Data.Voc;

/// <summary>How <see cref="VocReader"/> reads a PASCAL VOC detection split.</summary>
/// <param name="OnBad">What to do with an image or object that cannot be used (the default fails).</param>
/// <param name="ClassNames">
/// The class names in label order (label = index + 1). Null: the root's <c>labels.txt</c> when present, else the
/// 20 VOC classes when every name found is one of them, else the names found in the split, sorted.
/// </param>
/// <param name="KeepDifficult">Keep objects marked <c>difficult</c> (flagged, as the VOC evaluator needs them); false drops them.</param>
public sealed record VocReadOptions(OnBad OnBad = OnBad.Fail, IReadOnlyList<string>? ClassNames = null, bool KeepDifficult = true);
