using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Images;
using Man.Vision.Data.Records;
using static TorchSharp.torch;

namespace Man.Vision.Data.DetectionTransforms;

/// <summary>What <see cref="DetectionMapper"/> puts into a sample.</summary>
/// <param name="LoadMasks">Rasterise the instance masks into <see cref="DetectionTarget.Masks"/> (objects without a mask get their box).</param>
/// <param name="DropCrowd">Leave crowd objects out of the target (detectron2's training rule); evaluation keeps them.</param>
public sealed record DetectionMapperOptions(bool LoadMasks = false, bool DropCrowd = false);

/// <summary>
/// Turns <see cref="ImageRecord"/>s into <see cref="DetectionSample"/>s: decodes the image (RGB, [0, 1]), builds the
/// target tensors and applies the transforms (detectron2's DatasetMapper).
/// </summary>
/// <remarks>
/// An image that cannot be decoded, or whose size differs from the annotation's (<c>image-size-mismatch</c>), is bad
/// input: under <see cref="OnBad.Fail"/> it throws, under <see cref="OnBad.Skip"/> <see cref="Map"/> returns null
/// (the loader leaves the sample out) and the dataset's log counts it. Decoder repairs (grey/RGBA/extension) are counted there too.
/// </remarks>
public sealed class DetectionMapper
{
    /// <summary>Creates the mapper.</summary>
    public DetectionMapper(DetectionDataset dataset, IDetectionTransform? transform = null, DetectionMapperOptions? options = null)
    {
        Dataset = dataset ?? throw new ArgumentNullException(nameof(dataset));
        Transform = transform;
        Options = options ?? new DetectionMapperOptions();
    }

    /// <summary>The records.</summary>
    public DetectionDataset Dataset { get; }

    /// <summary>The transform (null: none).</summary>
    public IDetectionTransform? Transform { get; }

    /// <summary>The options.</summary>
    public DetectionMapperOptions Options { get; }

    /// <summary>The number of samples.</summary>
    public int Count => Dataset.Images.Count;

    /// <summary>Loads and transforms sample <paramref name="index"/>; null when it is bad and the policy skips it.</summary>
    /// <remarks>Tensors are created in the caller's dispose scope.</remarks>
    public DetectionSample? Map(int index, Random random)
    {
        var record = Dataset.Images[index];
        RgbImage rgb;
        try
        {
            rgb = ImageDecoder.Decode(record.FilePath, Dataset.Log);
            if (rgb.Width != record.Width || rgb.Height != record.Height)
                throw new BadInputException("image-size-mismatch", record.FilePath,
                    $"the image is {rgb.Width}x{rgb.Height} but its annotation says {record.Width}x{record.Height}");
        }
        catch (BadInputException e)
        {
            Dataset.Log.Handle(e);
            return null;
        }
        var sample = new DetectionSample(ImageTensors.ToTensor(rgb), BuildTarget(record, Options), record);
        return Transform is null ? sample : Transform.Apply(sample, random);
    }

    /// <summary>The target tensors of a record at its original size.</summary>
    public static DetectionTarget BuildTarget(ImageRecord record, DetectionMapperOptions? options = null)
    {
        options ??= new DetectionMapperOptions();
        var objs = options.DropCrowd ? record.Objects.Where(o => !o.IsCrowd).ToArray() : record.Objects.ToArray();
        int n = objs.Length;
        var boxes = new float[n * 4];
        var labels = new long[n];
        var crowd = new long[n];
        var area = new float[n];
        var difficult = new bool[n];
        for (int i = 0; i < n; i++)
        {
            var b = objs[i].Box;
            boxes[4 * i] = (float)b.X1;
            boxes[4 * i + 1] = (float)b.Y1;
            boxes[4 * i + 2] = (float)b.X2;
            boxes[4 * i + 3] = (float)b.Y2;
            labels[i] = objs[i].Label;
            crowd[i] = objs[i].IsCrowd ? 1 : 0;
            area[i] = (float)objs[i].Area;
            difficult[i] = objs[i].Difficult;
        }
        Tensor? masks = null;
        if (options.LoadMasks)
        {
            int hw = record.Height * record.Width;
            var m = new byte[(long)n * hw];
            for (int i = 0; i < n; i++)
            {
                var rle = objs[i].Mask?.ToRle(record.Height, record.Width)
                          ?? Masks.PolygonRasterizer.FromBbox(objs[i].Box.X1, objs[i].Box.Y1, objs[i].Box.Width, objs[i].Box.Height, record.Height, record.Width);
                rle.DecodeInto(m.AsSpan(i * hw, hw));
            }
            masks = tensor(m, [n, record.Height, record.Width], ScalarType.Byte);
        }
        return new DetectionTarget(tensor(boxes, [n, 4]), tensor(labels, [n]), masks, tensor(crowd, [n]), tensor(area, [n]), tensor(difficult, [n]), record.Id);
    }
}
