using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Images;
using Man.Vision.Data.Records;
using Man.Vision.Data.Segmentation;
using static TorchSharp.torch;

namespace Man.Vision.Data.DetectionTransforms;

/// <summary>
/// Turns <see cref="LabelImageRecord"/>s into <see cref="SegmentationSample"/>s: decodes the image, reads the label png
/// to training ids through the data set's <see cref="LabelEncoding"/> and applies the transforms.
/// </summary>
/// <remarks>
/// A bad image or label (undecodable, label values out of range, image and label of different sizes:
/// <c>label-size-mismatch</c>) throws under <see cref="OnBad.Fail"/> and makes <see cref="Map"/> return null under
/// <see cref="OnBad.Skip"/>, counted in the data set's log. With <c>outOfRangeAsIgnore</c> out-of-range values become 255 (a counted repair).
/// </remarks>
public sealed class SegmentationMapper(SegmentationDataset dataset, ISegmentationTransform? transform = null, bool outOfRangeAsIgnore = false)
{
    /// <summary>The records.</summary>
    public SegmentationDataset Dataset { get; } = dataset ?? throw new ArgumentNullException(nameof(dataset));

    /// <summary>The transform (null: none).</summary>
    public ISegmentationTransform? Transform { get; } = transform;

    /// <summary>The number of samples.</summary>
    public int Count => Dataset.Samples.Count;

    /// <summary>Loads and transforms sample <paramref name="index"/>; null when it is bad and the policy skips it.</summary>
    public SegmentationSample? Map(int index, Random random)
    {
        var record = Dataset.Samples[index];
        RgbImage rgb;
        LabelMap label;
        try
        {
            rgb = ImageDecoder.Decode(record.ImagePath, Dataset.Log);
            label = LabelReader.Read(record.LabelPath, Dataset.Encoding, Dataset.Log, outOfRangeAsIgnore);
            if (rgb.Width != label.Width || rgb.Height != label.Height)
                throw new BadInputException("label-size-mismatch", record.LabelPath,
                    $"the label is {label.Width}x{label.Height} but the image {Path.GetFileName(record.ImagePath)} is {rgb.Width}x{rgb.Height}");
        }
        catch (BadInputException e)
        {
            Dataset.Log.Handle(e);
            return null;
        }
        var sample = new SegmentationSample(ImageTensors.ToTensor(rgb),
            tensor(label.Ids, [label.Height, label.Width], ScalarType.Byte).to(ScalarType.Int64), record);
        return Transform is null ? sample : Transform.Apply(sample, random);
    }
}
