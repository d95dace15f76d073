using Man.Local.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Weights;

/// <summary>
/// <c>--pretrained PATH</c>: loads backbone weights into a model from a torchvision <c>.pth</c>, a
/// <c>.safetensors</c> file, or a Man.Vision checkpoint of another run (its <c>model.*</c> tensors), by name.
/// </summary>
public static class PretrainedWeights
{
    /// <summary>
    /// Loads <paramref name="path"/> into <paramref name="model"/> and returns the report. The classifier
    /// (<c>fc.*</c>) is skipped unless <paramref name="includeClassifier"/>; <paramref name="strict"/> fails on
    /// any missing, unexpected or mismatched key. Names starting with one of <paramref name="unusedPrefixes"/> (parts of
    /// the source network the model leaves out, e.g. <c>layer4.</c> of a body that ends at layer3) are skipped as the
    /// classifier is: neither loaded nor reported unexpected.
    /// </summary>
    public static LoadReport Load(nn.Module model, string path, bool strict = false, bool includeClassifier = false,
                                  IReadOnlyList<string>? unusedPrefixes = null)
    {
        var options = (includeClassifier ? new WeightLoadOptions() : WeightLoadOptions.BackboneOnly) with { Strict = strict };
        if (unusedPrefixes is { Count: > 0 }) options = options with { ExcludePrefixes = [.. options.ExcludePrefixes, .. unusedPrefixes] };
        if (!IsManCheckpoint(path)) return WeightLoader.Load(model, path, options);
        var all = CheckpointFile.ReadTensors(path);
        try
        {
            var backbone = all.Where(kv => kv.Key.StartsWith("model.", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key["model.".Length..], kv => kv.Value);
            if (backbone.Count == 0)
                throw new CheckpointException(path, "the checkpoint holds no model.* tensors to take a backbone from.");
            return WeightLoader.Load(model, backbone, path, options);
        }
        finally
        {
            foreach (var t in all.Values) t.Dispose();
        }
    }

    /// <summary>True when the file is a Man.Vision checkpoint (starts with MANCKPT1).</summary>
    public static bool IsManCheckpoint(string path)
    {
        if (!File.Exists(path)) return false;
        using var fs = File.OpenRead(path);
        var head = new byte[8];
        return fs.Read(head, 0, 8) == 8 && head.AsSpan().SequenceEqual("MANCKPT1"u8);
    }
}
