using System.Globalization;
using System.Text;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Images;
using Man.Vision.Data.Records;
using Man.Vision.Data.Segmentation;
using Man.Vision.Data.Stats;
using Newtonsoft.Json.Linq;

namespace Man.Cli.Commands;

/// <summary>Median and range of image sizes (<see cref="ImageSizeSummary"/> has no median).</summary>
/// <param name="Count">Images measured.</param>
/// <param name="MedianWidth">Median width (the mean of the two middle values for an even count).</param>
/// <param name="MedianHeight">Median height.</param>
public sealed record SizeMedians(int Count, double MedianWidth, double MedianHeight)
{
    /// <summary>The medians of <paramref name="sizes"/>.</summary>
    public static SizeMedians Of(IReadOnlyList<(int W, int H)> sizes) =>
        new(sizes.Count, Median(sizes.Select(s => s.W)), Median(sizes.Select(s => s.H)));

    private static double Median(IEnumerable<int> values)
    {
        var v = values.Order().ToArray();
        if (v.Length == 0) return 0;
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2.0;
    }
}

/// <summary>The numbers of <c>man-vision data stats</c> as text and json.</summary>
public static class DataStatsReport
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    /// <summary>Image sizes of a detection data set as its annotations give them.</summary>
    public static SizeMedians Medians(DetectionDataset dataset) => SizeMedians.Of(dataset.Images.Select(i => (i.Width, i.Height)).ToArray());

    /// <summary>Sizes of the first <paramref name="maxImages"/> label images of a segmentation data set (png headers only).</summary>
    public static SizeMedians Medians(SegmentationDataset dataset, int maxImages)
    {
        var sizes = new List<(int, int)>();
        foreach (var s in dataset.Samples.Take(maxImages))
        {
            try
            {
                var h = ImageDecoder.ReadHeader(s.LabelPath);
                sizes.Add((h.Width, h.Height));
            }
            catch (BadInputException)
            {
                // DataStats.Compute already applied the policy to this label image and counted it.
            }
        }
        return SizeMedians.Of(sizes);
    }

    /// <summary>The detection part as readable lines.</summary>
    public static string Text(DetectionStatistics s, SizeMedians m)
    {
        var sb = new StringBuilder();
        double total = Math.Max(1, s.Objects);
        sb.AppendLine(Ci, $"detection   {s.Name}");
        sb.AppendLine(Ci, $"  images    {s.Images} ({s.NegativeImages} without objects)");
        sb.AppendLine(Ci, $"  objects   {s.Objects} ({s.Crowd} crowd, {s.Difficult} difficult), {(s.Images > 0 ? s.Objects / (double)s.Images : 0):0.##} per image");
        sb.AppendLine(Ci, $"  width     min {s.Sizes.MinWidth}  median {m.MedianWidth:0.#}  max {s.Sizes.MaxWidth}");
        sb.AppendLine(Ci, $"  height    min {s.Sizes.MinHeight}  median {m.MedianHeight:0.#}  max {s.Sizes.MaxHeight}");
        sb.AppendLine(Ci, $"  common    {string.Join(", ", s.Sizes.Common.Select(c => $"{c.Width}x{c.Height} ({c.Count})"))}");
        sb.AppendLine(Ci, $"  box sizes small (<32²) {s.Small} ({100 * s.Small / total:0.#}%), medium {s.Medium} ({100 * s.Medium / total:0.#}%), large (>96²) {s.Large} ({100 * s.Large / total:0.#}%)");
        int width = Math.Max(5, s.PerClass.Count == 0 ? 5 : s.PerClass.Max(c => c.Name.Length));
        sb.AppendLine(Ci, $"  {"class".PadRight(width)}  label  objects  images");
        foreach (var c in s.PerClass.Where(c => c.Objects > 0))
            sb.AppendLine(Ci, $"  {c.Name.PadRight(width)}  {c.Label,5}  {c.Objects,7}  {c.Images,6}");
        int empty = s.PerClass.Count(c => c.Objects == 0);
        if (empty > 0)
            sb.AppendLine(Ci, $"  ({empty} of {s.PerClass.Count} classes without objects: {string.Join(", ", s.PerClass.Where(c => c.Objects == 0).Take(10).Select(c => c.Name))}{(empty > 10 ? ", ..." : "")})");
        return sb.ToString();
    }

    /// <summary>The segmentation part as readable lines.</summary>
    public static string Text(SegmentationStatistics s, SizeMedians m)
    {
        var sb = new StringBuilder();
        long total = Math.Max(1, s.PerClass.Sum(c => c.Pixels) + s.IgnorePixels);
        sb.AppendLine(Ci, $"segmentation {s.Name}");
        sb.AppendLine(Ci, $"  images    {s.Images} ({s.ImagesRead} label images read)");
        sb.AppendLine(Ci, $"  width     min {s.Sizes.MinWidth}  median {m.MedianWidth:0.#}  max {s.Sizes.MaxWidth}");
        sb.AppendLine(Ci, $"  height    min {s.Sizes.MinHeight}  median {m.MedianHeight:0.#}  max {s.Sizes.MaxHeight}");
        sb.AppendLine(Ci, $"  ignore    {s.IgnorePixels} pixels ({100.0 * s.IgnorePixels / total:0.##}%)");
        int width = Math.Max(5, s.PerClass.Count == 0 ? 5 : s.PerClass.Max(c => c.Name.Length));
        sb.AppendLine(Ci, $"  {"class".PadRight(width)}   id   pixels %   images");
        foreach (var c in s.PerClass)
            sb.AppendLine(Ci, $"  {c.Name.PadRight(width)}  {c.Id,3}  {100.0 * c.Pixels / total,8:0.00}  {c.Images,7}");
        return sb.ToString();
    }

    /// <summary>The detection part as json.</summary>
    public static JObject Json(DetectionStatistics s, SizeMedians m) => new()
    {
        ["name"] = s.Name,
        ["images"] = s.Images,
        ["negative_images"] = s.NegativeImages,
        ["objects"] = s.Objects,
        ["crowd"] = s.Crowd,
        ["difficult"] = s.Difficult,
        ["image_sizes"] = Sizes(s.Sizes, m),
        ["box_sizes"] = new JObject { ["small"] = s.Small, ["medium"] = s.Medium, ["large"] = s.Large },
        ["per_class"] = new JArray(s.PerClass.Select(c => new JObject { ["label"] = c.Label, ["name"] = c.Name, ["objects"] = c.Objects, ["images"] = c.Images })),
    };

    /// <summary>The segmentation part as json.</summary>
    public static JObject Json(SegmentationStatistics s, SizeMedians m)
    {
        long total = Math.Max(1, s.PerClass.Sum(c => c.Pixels) + s.IgnorePixels);
        return new JObject
        {
            ["name"] = s.Name,
            ["images"] = s.Images,
            ["images_read"] = s.ImagesRead,
            ["image_sizes"] = Sizes(s.Sizes, m),
            ["ignore_pixels"] = s.IgnorePixels,
            ["per_class"] = new JArray(s.PerClass.Select(c => new JObject
            {
                ["id"] = c.Id, ["name"] = c.Name, ["pixels"] = c.Pixels, ["fraction"] = (double)c.Pixels / total, ["images"] = c.Images,
            })),
        };
    }

    /// <summary>The warning summary as json: totals and every kind with its examples.</summary>
    public static JObject Json(BadInputLog log) => new()
    {
        ["policy"] = log.Policy.ToString().ToLowerInvariant(),
        ["repaired"] = log.RepairCount,
        ["skipped"] = log.SkipCount,
        ["kinds"] = new JArray(log.Summaries().Select(k => new JObject
        {
            ["action"] = k.Action.ToString().ToLowerInvariant(), ["kind"] = k.Kind, ["count"] = k.Count, ["examples"] = new JArray(k.Examples),
        })),
    };

    private static JObject Sizes(ImageSizeSummary s, SizeMedians m) => new()
    {
        ["width"] = new JObject { ["min"] = s.MinWidth, ["median"] = m.MedianWidth, ["max"] = s.MaxWidth, ["mean"] = s.MeanWidth },
        ["height"] = new JObject { ["min"] = s.MinHeight, ["median"] = m.MedianHeight, ["max"] = s.MaxHeight, ["mean"] = s.MeanHeight },
        ["common"] = new JArray(s.Common.Select(c => new JObject { ["width"] = c.Width, ["height"] = c.Height, ["images"] = c.Count })),
    };
}
