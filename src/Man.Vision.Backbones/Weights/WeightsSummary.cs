using System.Text;

namespace Man.Vision.Backbones.Weights;

/// <summary>What a weights file holds: tensors with shapes and dtypes (for <c>man-vision weights inspect</c>).</summary>
/// <param name="Path">The file.</param>
/// <param name="Format">Its format.</param>
/// <param name="Tensors">Name, shape, dtype of every tensor.</param>
/// <param name="Notes">Checkpoint unwrapping and prefix stripping done to reach the state dict.</param>
/// <param name="Architecture">The ResNet the names and shapes describe, if any.</param>
public sealed record WeightsSummary(string Path, WeightsFormat Format, IReadOnlyList<TensorInfo> Tensors, IReadOnlyList<string> Notes, string? Architecture)
{
    /// <summary>Total elements over all tensors.</summary>
    public long TotalElements => Tensors.Sum(t => t.Elements);

    /// <summary>A table: one line per tensor, then totals by dtype.</summary>
    public string ToText()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{Path}: {Format}, {Tensors.Count} tensors, {TotalElements:N0} elements" + (Architecture is null ? "" : $", looks like {Architecture}"));
        foreach (var n in Notes) sb.AppendLine($"  note: {n}");
        int width = Math.Max(4, Tensors.Count == 0 ? 4 : Tensors.Max(t => t.Name.Length));
        sb.AppendLine($"  {"name".PadRight(width)}  {"shape",-22} dtype");
        foreach (var t in Tensors)
            sb.AppendLine($"  {t.Name.PadRight(width)}  {t.ShapeText,-22} {ShapeFormat.DType(t.DType)}");
        foreach (var g in Tensors.GroupBy(t => t.DType))
            sb.AppendLine($"  {ShapeFormat.DType(g.Key)}: {g.Count()} tensors, {g.Sum(t => t.Elements):N0} elements");
        return sb.ToString();
    }
}

