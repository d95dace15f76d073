using System.Globalization;
using System.Text;

namespace Man.Vision.Data.Stats;

/// <summary>Counts of one class of a detection data set.</summary>
/// <param name="Label">The label (1..C).</param>
/// <param name="Name">The class name.</param>
/// <param name="Objects">Objects of the class (crowd included).</param>
/// <param name="Images">Images with at least one object of the class.</param>
public sealed record ClassCount(int Label, string Name, int Objects, int Images);

/// <summary>Image size summary.</summary>
/// <param name="MinWidth">Smallest width.</param>
/// <param name="MaxWidth">Largest width.</param>
/// <param name="MinHeight">Smallest height.</param>
/// <param name="MaxHeight">Largest height.</param>
/// <param name="MeanWidth">Mean width.</param>
/// <param name="MeanHeight">Mean height.</param>
/// <param name="Common">The most frequent sizes with their image counts (at most 5).</param>
public sealed record ImageSizeSummary(int MinWidth, int MaxWidth, int MinHeight, int MaxHeight, double MeanWidth, double MeanHeight, IReadOnlyList<(int Width, int Height, int Count)> Common)
{
    internal static ImageSizeSummary Of(IReadOnlyList<(int W, int H)> sizes)
    {
        if (sizes.Count == 0) return new ImageSizeSummary(0, 0, 0, 0, 0, 0, []);
        var common = sizes.GroupBy(s => s).OrderByDescending(g => g.Count()).ThenBy(g => g.Key.W).ThenBy(g => g.Key.H).Take(5)
            .Select(g => (g.Key.W, g.Key.H, g.Count())).ToArray();
        return new ImageSizeSummary(sizes.Min(s => s.W), sizes.Max(s => s.W), sizes.Min(s => s.H), sizes.Max(s => s.H),
            sizes.Average(s => s.W), sizes.Average(s => s.H), common);
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"width {MinWidth}..{MaxWidth} (mean {MeanWidth:0.#}), height {MinHeight}..{MaxHeight} (mean {MeanHeight:0.#}); most common: {string.Join(", ", Common.Select(c => $"{c.Width}x{c.Height} ({c.Count})"))}");
}

/// <summary>What <see cref="DataStats.Compute(Records.DetectionDataset)"/> reports about a detection data set.</summary>
/// <param name="Name">The data set name.</param>
/// <param name="Images">Images.</param>
/// <param name="NegativeImages">Images without objects.</param>
/// <param name="Objects">Objects (crowd included).</param>
/// <param name="Crowd">Crowd objects.</param>
/// <param name="Difficult">Objects flagged difficult (VOC).</param>
/// <param name="PerClass">Objects and images per class, in label order.</param>
/// <param name="Sizes">Image sizes.</param>
/// <param name="Small">Objects with area &lt; 32² (COCO "small"; the annotation's area: mask area for COCO, box area for VOC).</param>
/// <param name="Medium">Objects with 32² ≤ area ≤ 96².</param>
/// <param name="Large">Objects with area &gt; 96².</param>
/// <param name="Log">The reader's repairs and skips, as text.</param>
public sealed record DetectionStatistics(string Name, int Images, int NegativeImages, int Objects, int Crowd, int Difficult,
    IReadOnlyList<ClassCount> PerClass, ImageSizeSummary Sizes, int Small, int Medium, int Large, string Log)
{
    /// <summary>A readable multi-line report.</summary>
    public string ToText()
    {
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        sb.AppendLine(ci, $"data set   {Name}");
        sb.AppendLine(ci, $"images     {Images} ({NegativeImages} without objects)");
        sb.AppendLine(ci, $"objects    {Objects} ({Crowd} crowd, {Difficult} difficult), {(Images > 0 ? (double)Objects / Images : 0):0.##} per image");
        sb.AppendLine(ci, $"sizes      {Sizes}");
        double total = Math.Max(1, Objects);
        sb.AppendLine(ci, $"box sizes  small (<32²) {Small} ({100 * Small / total:0.#}%), medium {Medium} ({100 * Medium / total:0.#}%), large (>96²) {Large} ({100 * Large / total:0.#}%)");
        sb.AppendLine("per class  label  objects  images  name");
        foreach (var c in PerClass) sb.AppendLine(ci, $"           {c.Label,5}  {c.Objects,7}  {c.Images,6}  {c.Name}");
        sb.Append(ci, $"warnings   {Log}");
        return sb.ToString();
    }
}
