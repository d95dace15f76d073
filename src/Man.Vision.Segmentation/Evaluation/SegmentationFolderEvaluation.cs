using Man.Vision.Segmentation.IO;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Evaluation;

/// <summary>
/// Evaluates a folder of predicted label PNGs against a folder of ground-truth label PNGs with <see cref="IoUMetric"/>
/// (the library side of <c>man-vision eval segment --pred DIR --gt DIR</c>).
/// </summary>
/// <remarks>
/// Every <c>*.png</c> of the ground-truth folder is evaluated against the prediction of the same file stem (the
/// prediction may be any case of <c>.png</c>); predictions without a ground truth are not evaluated. Both are read as raw
/// single-channel 8-bit values (<see cref="LabelPng"/>: grey levels or palette indices).
/// </remarks>
public static class SegmentationFolderEvaluation
{
    /// <summary>Evaluates every ground-truth label map of <paramref name="gtDir"/> against its prediction.</summary>
    /// <param name="predDir">Folder of predicted label PNGs (values in [0, C)).</param>
    /// <param name="gtDir">Folder of ground-truth label PNGs (values in [0, C) or <paramref name="ignoreIndex"/>).</param>
    /// <param name="numClasses">C.</param>
    /// <param name="ignoreIndex">Ground-truth value of pixels left out (255).</param>
    /// <param name="classNames">C class names for the report, or null for the indices.</param>
    /// <exception cref="DirectoryNotFoundException">A folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">Predictions are missing for some ground truths (all are named, up to 20).</exception>
    /// <exception cref="InvalidDataException">A file is not a single-channel PNG, sizes differ, or a value is out of range; the message names the file.</exception>
    public static SegmentationMetrics Run(string predDir, string gtDir, int numClasses, long ignoreIndex = 255, IReadOnlyList<string>? classNames = null)
    {
        if (!Directory.Exists(predDir)) throw new DirectoryNotFoundException($"Prediction folder '{predDir}' does not exist.");
        if (!Directory.Exists(gtDir)) throw new DirectoryNotFoundException($"Ground-truth folder '{gtDir}' does not exist.");
        var metric = new IoUMetric(numClasses, ignoreIndex, classNames);

        string[] gts = PngFiles(gtDir);
        if (gts.Length == 0) throw new FileNotFoundException($"Ground-truth folder '{gtDir}' holds no .png label maps.");
        var predictions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string p in PngFiles(predDir))
        {
            string stem = Path.GetFileNameWithoutExtension(p);
            if (!predictions.TryAdd(stem, p))
                throw new InvalidDataException($"Prediction folder '{predDir}' holds two files with the stem '{stem}': '{predictions[stem]}' and '{p}'.");
        }
        var missing = gts.Where(g => !predictions.ContainsKey(Path.GetFileNameWithoutExtension(g))).ToList();
        if (missing.Count > 0)
            throw new FileNotFoundException(
                $"{missing.Count} of {gts.Length} ground-truth label maps have no prediction in '{predDir}' (matched by file name without extension): " +
                string.Join(", ", missing.Take(20).Select(Path.GetFileName)) + (missing.Count > 20 ? ", …" : "") + ".");

        foreach (string gtPath in gts)
        {
            string predPath = predictions[Path.GetFileNameWithoutExtension(gtPath)];
            ClassMap gt = LabelPng.Read(gtPath);
            ClassMap pred = LabelPng.Read(predPath);
            if (gt.Width != pred.Width || gt.Height != pred.Height)
                throw new InvalidDataException(
                    $"Prediction '{predPath}' is {pred.Width}×{pred.Height} but its ground truth '{gtPath}' is {gt.Width}×{gt.Height}.");
            CheckValues(gt, gtPath, numClasses, ignoreIndex, "ground-truth");
            CheckValues(pred, predPath, numClasses, null, "prediction");
            using var scope = NewDisposeScope();
            metric.Process(tensor(pred.Pixels, [pred.Height, pred.Width]), tensor(gt.Pixels, [gt.Height, gt.Width]));
        }
        return metric.Evaluate();
    }

    private static string[] PngFiles(string dir) =>
        Directory.EnumerateFiles(dir)
            .Where(f => string.Equals(Path.GetExtension(f), ".png", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToArray();

    private static void CheckValues(ClassMap map, string path, int numClasses, long? ignoreIndex, string what)
    {
        // One pass over the bytes: a histogram, then the first offending value and where it is.
        Span<long> histogram = stackalloc long[256];
        foreach (byte v in map.Pixels) histogram[v]++;
        for (int v = numClasses; v < 256; v++)
        {
            if (histogram[v] == 0 || v == ignoreIndex) continue;
            int at = Array.IndexOf(map.Pixels, (byte)v);
            string allowed = ignoreIndex is null ? $"[0, {numClasses})" : $"[0, {numClasses}) or the ignore index {ignoreIndex}";
            throw new InvalidDataException(
                $"The {what} label map '{path}' holds value {v} ({histogram[v]} pixel(s), first at x={at % map.Width}, y={at / map.Width}); values must be in {allowed}.");
        }
    }
}
