using System.Globalization;
using Newtonsoft.Json;

namespace Man.Vision.Detection.Evaluation;

/// <summary>
/// What <c>man-vision eval detect --gt GT.json --dets DETS.json --json OUT.json</c> does: reads a COCO instances file
/// and a COCO result file, evaluates them as pycocotools does, and writes the twelve numbers.
/// </summary>
public static class CocoFileEvaluation
{
    /// <summary>
    /// Evaluates the detections file against the ground-truth file. The report's <see cref="CocoEvalReport.Text"/> is
    /// pycocotools' printed output (evaluate/accumulate lines and the twelve summary lines) followed by a per-category
    /// AP table. When <paramref name="jsonOutputPath"/> is given, a JSON object with the keys
    /// <c>AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl</c> is written there.
    /// </summary>
    /// <exception cref="FileNotFoundException">An input file does not exist.</exception>
    /// <exception cref="InvalidDataException">An input file is malformed; the message names the file and the entry.</exception>
    public static CocoEvalReport Evaluate(string groundTruthPath, string detectionsPath, string? jsonOutputPath = null, CocoEvalParameters? parameters = null)
    {
        var gt = CocoGroundTruth.Load(groundTruthPath);
        var dets = CocoResultsFile.Load(detectionsPath, gt);
        var result = CocoEval.Evaluate(gt, dets, parameters);
        var report = new CocoEvalReport(result, result.FormatReport() + "\n" + result.FormatPerCategoryTable());
        if (jsonOutputPath is not null) WriteStats(jsonOutputPath, result);
        return report;
    }

    /// <summary>Writes the twelve numbers as a JSON object (keys of <see cref="CocoEvalResult.StatNames"/>, round-trip precision).</summary>
    public static void WriteStats(string path, CocoEvalResult result)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(result);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var text = File.CreateText(path);
        using var w = new JsonTextWriter(text) { Formatting = Formatting.Indented, Culture = CultureInfo.InvariantCulture };
        w.WriteStartObject();
        foreach (var (key, value) in result.ToMetrics())
        {
            w.WritePropertyName(key);
            w.WriteValue(value);
        }
        w.WriteEndObject();
    }
}

/// <summary>The outcome of <see cref="CocoFileEvaluation.Evaluate"/>.</summary>
/// <param name="Result">Everything pycocotools computes.</param>
/// <param name="Text">The printed report: pycocotools' lines and a per-category AP table.</param>
public sealed record CocoEvalReport(CocoEvalResult Result, string Text)
{
    /// <summary>The twelve numbers under <c>AP, AP50, …, ARl</c>.</summary>
    public IReadOnlyDictionary<string, double> Stats => Result.ToMetrics();
}
