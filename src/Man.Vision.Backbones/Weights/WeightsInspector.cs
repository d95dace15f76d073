using Man.Vision.Backbones.ResNets;

namespace Man.Vision.Backbones.Weights;

/// <summary>Lists the tensors of a weights file without a model.</summary>
public static class WeightsInspector
{
    /// <summary>Reads <paramref name="path"/> (safetensors: the header only) and lists its tensors.</summary>
    /// <exception cref="WeightsFileException">The file cannot be read (the message says why).</exception>
    public static WeightsSummary Inspect(string path)
    {
        var format = WeightsReader.DetectFormat(path);
        IReadOnlyList<TensorInfo> tensors;
        IReadOnlyList<string> notes;
        if (format == WeightsFormat.Safetensors)
        {
            using var fs = File.OpenRead(path);
            tensors = SafetensorsCodec.ReadHeader(path, fs).Select(e => e.Info).ToList();
            notes = [];
        }
        else
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            using var file = WeightsReader.Read(path);
            tensors = file.Describe();
            notes = file.Notes;
        }
        string? arch = ResNetArchitecture.Describe(tensors.ToDictionary(t => t.Name, t => t.Shape));
        return new WeightsSummary(path, format, tensors, notes, arch);
    }
}
