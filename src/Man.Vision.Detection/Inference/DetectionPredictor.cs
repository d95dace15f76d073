using System.Globalization;
using Man.Vision.Data.Images;
using Man.Vision.Detection.Evaluation;
using Man.Vision.Detection.Models;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Inference;

/// <summary>What <see cref="DetectionPredictor.Run"/> wrote.</summary>
/// <param name="Images">Images processed.</param>
/// <param name="Detections">Detections written (at or above the score threshold).</param>
/// <param name="DetectionsJson">The COCO result file (image_id, category_id, bbox xywh, score).</param>
/// <param name="ImagesJson">The image list (id, file_name, width, height) the ids refer to.</param>
/// <param name="Drawings">The images with boxes drawn.</param>
/// <param name="Seconds">Time spent in the detector.</param>
public sealed record PredictionSummary(int Images, int Detections, string DetectionsJson, string ImagesJson, IReadOnlyList<string> Drawings, double Seconds);

/// <summary>
/// Runs a detector on image files: writes COCO-format detections and, per image, a PNG with boxes, labels and scores.
/// Image ids are the files' numeric names when every name is a distinct number (COCO's <c>000000139.jpg</c> → 139), otherwise
/// 1..N in the listed order; <c>images.json</c> maps them back to the files.
/// </summary>
public static class DetectionPredictor
{
    /// <summary>Name of the detections file.</summary>
    public const string DetectionsFile = "detections.json";

    /// <summary>Name of the image list.</summary>
    public const string ImagesFile = "images.json";

    /// <summary>The image files named by <paramref name="inputs"/>: files as given, folders by their image files in name order.</summary>
    /// <exception cref="FileNotFoundException">An input does not exist.</exception>
    /// <exception cref="ArgumentException">No image was found.</exception>
    public static IReadOnlyList<string> ListImages(IEnumerable<string> inputs)
    {
        var files = new List<string>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
                files.AddRange(Directory.GetFiles(input).Where(ImageDecoder.HasImageExtension).Order(StringComparer.Ordinal));
            else if (File.Exists(input)) files.Add(input);
            else throw new FileNotFoundException($"The image or folder {input} does not exist.", input);
        }
        if (files.Count == 0) throw new ArgumentException($"No image files in {string.Join(", ", inputs)} (extensions: {string.Join(", ", ImageDecoder.Extensions.Order())}).");
        return files;
    }

    /// <summary>Predicts every image and writes the results into <paramref name="outDir"/>.</summary>
    /// <param name="detector">The detector (put in eval mode here).</param>
    /// <param name="classes">Class names by label (label 1 = first).</param>
    /// <param name="categoryIds">COCO category id of each label (label 1 = first).</param>
    /// <param name="files">Image files.</param>
    /// <param name="outDir">Output folder.</param>
    /// <param name="scoreThreshold">Detections below this score are neither written nor drawn.</param>
    /// <param name="draw">Write the PNGs with boxes.</param>
    /// <param name="device">The detector's device.</param>
    public static PredictionSummary Run(GeneralizedRcnn detector, IReadOnlyList<string> classes, IReadOnlyList<int> categoryIds, IReadOnlyList<string> files,
        string outDir, double scoreThreshold = 0.5, bool draw = true, Device? device = null)
    {
        if (classes.Count != categoryIds.Count) throw new ArgumentException($"{classes.Count} classes but {categoryIds.Count} category ids.");
        if (!(scoreThreshold >= 0 && scoreThreshold <= 1)) throw new ArgumentOutOfRangeException(nameof(scoreThreshold), scoreThreshold, "The score threshold must lie in [0, 1].");
        Directory.CreateDirectory(outDir);
        var ids = ImageIds(files);
        var results = new List<CocoDetection>();
        var images = new JArray();
        var drawings = new List<string>();
        var usedNames = new HashSet<string>(StringComparer.Ordinal);
        double seconds = 0;
        detector.eval();
        for (int i = 0; i < files.Count; i++)
        {
            var rgb = ImageDecoder.Decode(files[i]);
            images.Add(new JObject { ["id"] = ids[i], ["file_name"] = Path.GetFileName(files[i]), ["path"] = Path.GetFullPath(files[i]), ["width"] = rgb.Width, ["height"] = rgb.Height });
            float[] boxes;
            float[] scores;
            long[] labels;
            using (var scope = NewDisposeScope())
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var image = ImageTensors.ToTensor(rgb);
                if (device is not null) image = image.to(device);
                var d = detector.Predict([image])[0];
                var keep = d.Scores.ge(scoreThreshold);
                var kept = BoxDetections.FromTensors(d.Boxes[keep], d.Scores[keep], d.Labels[keep]);
                seconds += clock.Elapsed.TotalSeconds;
                (boxes, scores, labels) = (kept.Boxes, kept.Scores, kept.Labels);
            }
            var captions = new string[labels.Length];
            for (int j = 0; j < labels.Length; j++)
            {
                long label = labels[j];
                if (label < 1 || label > classes.Count)
                    throw new InvalidOperationException($"The detector returned label {label} for {files[i]}, outside its {classes.Count} classes.");
                float x1 = boxes[4 * j], y1 = boxes[4 * j + 1], x2 = boxes[4 * j + 2], y2 = boxes[4 * j + 3];
                results.Add(new CocoDetection(ids[i], categoryIds[(int)label - 1], x1, y1, x2 - x1, y2 - y1, scores[j]));
                captions[j] = $"{classes[(int)label - 1]} {scores[j].ToString("0.00", CultureInfo.InvariantCulture)}";
            }
            if (draw)
            {
                string name = Path.GetFileNameWithoutExtension(files[i]);
                if (!usedNames.Add(name)) name = $"{name}-{ids[i]}";
                string png = Path.Combine(outDir, name + ".png");
                BoxPainter.Save(rgb, boxes, labels, captions, png);
                drawings.Add(png);
            }
        }
        string detsPath = Path.Combine(outDir, DetectionsFile);
        CocoResultsFile.Save(detsPath, results);
        string imagesPath = Path.Combine(outDir, ImagesFile);
        File.WriteAllText(imagesPath, images.ToString(Formatting.Indented));
        return new PredictionSummary(files.Count, results.Count, detsPath, imagesPath, drawings, seconds);
    }

    private static long[] ImageIds(IReadOnlyList<string> files)
    {
        var numeric = files.Select(f => long.TryParse(Path.GetFileNameWithoutExtension(f), NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : -1).ToArray();
        bool usable = numeric.All(v => v >= 0) && numeric.Distinct().Count() == numeric.Length;
        return usable ? numeric : Enumerable.Range(1, files.Count).Select(i => (long)i).ToArray();
    }
}
