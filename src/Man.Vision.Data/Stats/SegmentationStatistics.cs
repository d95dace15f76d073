using System.Globalization;
using System.Text;

namespace Man.Vision.Data.Stats;

/// <summary>Pixels and images of one segmentation class.</summary>
/// <param name="Id">The training id.</param>
/// <param name="Name">The class name.</param>
/// <param name="Pixels">Labelled pixels of the class.</param>
/// <param name="Images">Images where the class occurs.</param>
public sealed record ClassPixels(int Id, string Name, long Pixels, int Images);

/// <summary>What <see cref="DataStats.Compute(Segmentation.SegmentationDataset, int)"/> reports about a segmentation data set.</summary>
/// <param name="Name">The data set name.</param>
/// <param name="Images">Samples listed.</param>
/// <param name="ImagesRead">Label images actually read (all, or the first N asked for).</param>
/// <param name="PerClass">Pixels and images per class.</param>
/// <param name="IgnorePixels">Pixels labelled 255 (ignore).</param>
/// <param name="Sizes">Label image sizes of the images read.</param>
/// <param name="Log">The reader's repairs and skips, as text.</param>
public sealed record SegmentationStatistics(string Name, int Images, int ImagesRead, IReadOnlyList<ClassPixels> PerClass, long IgnorePixels, ImageSizeSummary Sizes, string Log)
{
    /// <summary>A readable multi-line report.</summary>
    public string ToText()
    {
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        long total = PerClass.Sum(c => c.Pixels) + IgnorePixels;
        sb.AppendLine(ci, $"data set   {Name}");
        sb.AppendLine(ci, $"images     {Images} ({ImagesRead} label images read)");
        sb.AppendLine(ci, $"sizes      {Sizes}");
        sb.AppendLine(ci, $"ignore     {IgnorePixels} pixels ({100.0 * IgnorePixels / Math.Max(1, total):0.##}%)");
        sb.AppendLine("per class  id   pixels%   images  name");
        foreach (var c in PerClass) sb.AppendLine(ci, $"           {c.Id,3}  {100.0 * c.Pixels / Math.Max(1, total),7:0.##}  {c.Images,7}  {c.Name}");
        sb.Append(ci, $"warnings   {Log}");
        return sb.ToString();
    }
}
