using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Records;

namespace Man.Vision.Data.Segmentation;

/// <summary>The records of a semantic segmentation data set (image + label png pairs) and how to read its labels.</summary>
/// <param name="Name">A short name ("camvid:train", "voc-seg:val", ...).</param>
/// <param name="Samples">The image/label pairs in list order.</param>
/// <param name="Encoding">Stored label values → training ids (0..C−1, 255 ignore).</param>
/// <param name="Log">Repairs and skips made while reading, with the policy used.</param>
public sealed record SegmentationDataset(string Name, IReadOnlyList<LabelImageRecord> Samples, LabelEncoding Encoding, BadInputLog Log)
{
    /// <summary>The number of classes C (ignore excluded).</summary>
    public int NumClasses => Encoding.NumClasses;

    /// <summary>Reads the training ids of sample <paramref name="index"/> (see <see cref="LabelReader.Read"/>).</summary>
    public LabelMap ReadLabels(int index, bool outOfRangeAsIgnore = false) =>
        LabelReader.Read(Samples[index].LabelPath, Encoding, Log, outOfRangeAsIgnore);
}
