using Man.Vision.Data.DetectionTransforms;
using Man.Vision.Data.Images;
using Man.Vision.Data.Segmentation;
using Man.Vision.Segmentation.Inference;
using Man.Vision.Segmentation.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Training;

/// <summary>
/// Predicts label maps for image files with a trained <see cref="Segmenter"/> and writes them as palette label PNGs (values =
/// class ids, readable by <see cref="LabelPng"/> and <c>eval segment --pred</c>) and as colour overlays on the image.
/// </summary>
public sealed class SegmentationPredictor(Segmenter segmenter, Device device, SlidingWindow? window = null)
{
    /// <summary>Folder (under the output folder) of the label PNGs.</summary>
    public const string LabelsFolder = "labels";

    /// <summary>Folder (under the output folder) of the overlays.</summary>
    public const string OverlaysFolder = "overlays";

    /// <summary>The fixed palette of labels and overlays: the PASCAL VOC colour map (class c → entry c + 1, so class 0 is not black).</summary>
    public static byte[] Palette { get; } = LabelEncoding.VocPalette(256)[3..].Concat(new byte[] { 0, 0, 0 }).ToArray();

    /// <summary>The segmenter.</summary>
    public Segmenter Segmenter { get; } = segmenter;

    /// <summary>
    /// The image files named by <paramref name="inputs"/>: files as given, folders expanded to their images (sorted by name).
    /// </summary>
    /// <exception cref="FileNotFoundException">An input does not exist, or a folder holds no image.</exception>
    public static IReadOnlyList<string> ListImages(IEnumerable<string> inputs)
    {
        var files = new List<string>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                var found = Directory.EnumerateFiles(input).Where(ImageDecoder.HasImageExtension).Order(StringComparer.Ordinal).ToList();
                if (found.Count == 0) throw new FileNotFoundException($"The folder '{input}' holds no image ({string.Join(", ", ImageDecoder.Extensions)}).", input);
                files.AddRange(found);
            }
            else if (File.Exists(input)) files.Add(input);
            else throw new FileNotFoundException($"The image or folder '{input}' does not exist.", input);
        }
        if (files.Count == 0) throw new ArgumentException("No image given.");
        var duplicates = files.GroupBy(f => Path.GetFileNameWithoutExtension(f), StringComparer.Ordinal).Where(g => g.Count() > 1).ToList();
        if (duplicates.Count > 0)
            throw new ArgumentException($"Several inputs share the name '{duplicates[0].Key}' ({string.Join(", ", duplicates[0])}); their outputs would overwrite each other.");
        return files;
    }

    /// <summary>The class of every pixel of an image file, at the image's size.</summary>
    /// <exception cref="Data.Diagnostics.BadInputException">The image cannot be decoded (the file is named).</exception>
    public ClassMap Predict(string imagePath) => Predict(ImageDecoder.Decode(imagePath));

    /// <summary>The class of every pixel of an image, at its size.</summary>
    public ClassMap Predict(RgbImage image)
    {
        using var scope = NewDisposeScope();
        // The evaluation transform's normalisation (SegmentationCompose.Eval), so predictions equal those of eval segment.
        var x = ImageOps.Normalize(ImageTensors.ToTensor(image), Normalize.ImageNetMean, Normalize.ImageNetStd).unsqueeze(0).to(device);
        var learner = Segmenter.Learner;
        bool wasTraining = learner.training;
        learner.eval();
        try
        {
            using var noGrad = no_grad();
            var prediction = SegmentationInference.Predict(Segmenter.Logits, x, window)[0].to(ScalarType.Byte).cpu();
            return new ClassMap(image.Width, image.Height, prediction.data<byte>().ToArray());
        }
        finally
        {
            learner.train(wasTraining);
        }
    }

    /// <summary>
    /// Predicts <paramref name="imagePath"/> and writes <c>outDir/labels/STEM.png</c> (palette PNG of class ids) and
    /// <c>outDir/overlays/STEM.png</c> (the image blended with the class colours at <paramref name="opacity"/>).
    /// </summary>
    /// <returns>The label map.</returns>
    public ClassMap PredictAndWrite(string imagePath, string outDir, double opacity = 0.5)
    {
        if (opacity is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(opacity), opacity, "The overlay opacity must lie in [0, 1].");
        var image = ImageDecoder.Decode(imagePath);
        var map = Predict(image);
        string stem = Path.GetFileNameWithoutExtension(imagePath);
        string labels = Path.Combine(outDir, LabelsFolder);
        Directory.CreateDirectory(labels);
        PngCodec.WritePalette(Path.Combine(labels, stem + ".png"), map.Pixels, map.Width, map.Height, Palette);
        ImageEncoder.Save(Overlay(image, map, opacity), Path.Combine(outDir, OverlaysFolder, stem + ".png"));
        return map;
    }

    /// <summary>The image blended with the palette colour of each pixel's class: (1 − a)·image + a·colour.</summary>
    public static RgbImage Overlay(RgbImage image, ClassMap map, double opacity)
    {
        if (image.Width != map.Width || image.Height != map.Height)
            throw new ArgumentException($"The label map is {map.Width}×{map.Height} but the image {image.Width}×{image.Height}.");
        var pixels = new byte[image.Pixels.Length];
        for (int p = 0; p < map.Pixels.Length; p++)
        {
            int c = map.Pixels[p];
            for (int ch = 0; ch < 3; ch++)
                pixels[3 * p + ch] = (byte)Math.Clamp(Math.Round((1 - opacity) * image.Pixels[3 * p + ch] + opacity * Palette[3 * c + ch]), 0, 255);
        }
        return new RgbImage(image.Width, image.Height, pixels);
    }
}
