using System.Text;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Weights;

/// <summary>A tensor whose stored shape differs from the model's.</summary>
public sealed record ShapeMismatch(string Name, long[] ModelShape, long[] FileShape);

/// <summary>A tensor converted from the stored dtype to the model's while loading.</summary>
public sealed record DTypeConversion(string Name, ScalarType From, ScalarType To);

/// <summary>
/// What a weight load did, by model tensor name: loaded, missing (in the model, not in the file), unexpected
/// (in the file, not in the model), shape mismatches (never loaded), dtype conversions and skipped names.
/// <see cref="ToString"/> prints it as a table.
/// </summary>
public sealed class LoadReport
{
    internal LoadReport(string source, WeightsFormat? format, IReadOnlyList<string> loaded, IReadOnlyList<string> missing,
                        IReadOnlyList<string> unexpected, IReadOnlyList<ShapeMismatch> shapeMismatches,
                        IReadOnlyList<DTypeConversion> dtypeConversions, IReadOnlyList<string> skipped, IReadOnlyList<string> notes,
                        int modelTensors)
    {
        Source = source;
        Format = format;
        Loaded = loaded;
        Missing = missing;
        Unexpected = unexpected;
        ShapeMismatches = shapeMismatches;
        DTypeConversions = dtypeConversions;
        Skipped = skipped;
        Notes = notes;
        ModelTensors = modelTensors;
    }

    /// <summary>The file (or other source) the weights came from.</summary>
    public string Source { get; }

    /// <summary>The file format, when read from a file.</summary>
    public WeightsFormat? Format { get; }

    /// <summary>Model tensor names that received values.</summary>
    public IReadOnlyList<string> Loaded { get; }

    /// <summary>Model tensor names (within the loaded scope) the file does not provide.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>File tensor names (after prefix mapping) the model does not have.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Tensors present on both sides with different shapes (not loaded).</summary>
    public IReadOnlyList<ShapeMismatch> ShapeMismatches { get; }

    /// <summary>Tensors loaded with a dtype conversion (e.g. float16 → float32).</summary>
    public IReadOnlyList<DTypeConversion> DTypeConversions { get; }

    /// <summary>Names left out on purpose (excluded prefixes, names outside the source prefix, BN counters).</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>Remarks: checkpoint unwrapping, conversions, architecture hints.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Tensors of the model within the loaded scope.</summary>
    public int ModelTensors { get; }

    /// <summary>True when something is missing, unexpected or mismatched (what strict loading refuses).</summary>
    public bool HasProblems => Missing.Count > 0 || Unexpected.Count > 0 || ShapeMismatches.Count > 0;

    /// <summary>One line: counts of every category.</summary>
    public string Summary =>
        $"loaded {Loaded.Count}/{ModelTensors} model tensors from '{Source}'" +
        $"; missing {Missing.Count}, unexpected {Unexpected.Count}, shape mismatches {ShapeMismatches.Count}" +
        $", dtype conversions {DTypeConversions.Count}, skipped {Skipped.Count}";

    /// <summary>The report as a text table; at most <paramref name="maxRows"/> names per category.</summary>
    public string ToText(int maxRows = 20)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Weights: {Source}" + (Format is { } f ? $" ({f})" : ""));
        sb.AppendLine($"  {"category",-18} {"count",6}");
        sb.AppendLine($"  {"loaded",-18} {Loaded.Count,6}");
        sb.AppendLine($"  {"missing",-18} {Missing.Count,6}");
        sb.AppendLine($"  {"unexpected",-18} {Unexpected.Count,6}");
        sb.AppendLine($"  {"shape mismatch",-18} {ShapeMismatches.Count,6}");
        sb.AppendLine($"  {"dtype converted",-18} {DTypeConversions.Count,6}");
        sb.AppendLine($"  {"skipped",-18} {Skipped.Count,6}");
        Section(sb, "missing (in the model, not in the file)", Missing, maxRows);
        Section(sb, "unexpected (in the file, not in the model)", Unexpected, maxRows);
        Section(sb, "shape mismatch (not loaded)",
            ShapeMismatches.Select(m => $"{m.Name}: model {ShapeFormat.Of(m.ModelShape)}, file {ShapeFormat.Of(m.FileShape)}").ToList(), maxRows);
        Section(sb, "dtype converted",
            DTypeConversions.Select(c => $"{c.Name}: {ShapeFormat.DType(c.From)} -> {ShapeFormat.DType(c.To)}").ToList(), maxRows);
        if (Notes.Count > 0)
        {
            sb.AppendLine("  notes:");
            foreach (var n in Notes) sb.AppendLine($"    - {n}");
        }
        return sb.ToString();
    }

    private static void Section(StringBuilder sb, string title, IReadOnlyList<string> rows, int maxRows)
    {
        if (rows.Count == 0) return;
        sb.AppendLine($"  {title}:");
        foreach (var r in rows.Take(maxRows)) sb.AppendLine($"    {r}");
        if (rows.Count > maxRows) sb.AppendLine($"    … and {rows.Count - maxRows} more");
    }

    /// <inheritdoc/>
    public override string ToString() => ToText();
}
