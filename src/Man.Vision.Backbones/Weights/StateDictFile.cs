using static TorchSharp.torch;

namespace Man.Vision.Backbones.Weights;

/// <summary>
/// Tensors read from a weights file, after unwrapping nested checkpoints and stripping DataParallel prefixes.
/// Owns the tensors: dispose it (or read it inside a dispose scope) when done.
/// </summary>
public sealed class StateDictFile : IDisposable
{
    internal StateDictFile(string path, WeightsFormat format, IReadOnlyList<string> names, IReadOnlyDictionary<string, Tensor> tensors,
                           IReadOnlyList<string> notes)
    {
        Path = path;
        Format = format;
        Names = names;
        Tensors = tensors;
        Notes = notes;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Its format.</summary>
    public WeightsFormat Format { get; }

    /// <summary>Tensor names in a stable order (file order for safetensors, natural name order for pickles).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The tensors by name (CPU).</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors { get; }

    /// <summary>What was done to reach the state dict (e.g. "took the 'state_dict' entry", "stripped 'module.'").</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Name, shape and dtype of each tensor, in <see cref="Names"/> order.</summary>
    public IReadOnlyList<TensorInfo> Describe() => Names.Select(n => new TensorInfo(n, Tensors[n].shape, Tensors[n].dtype)).ToList();

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}
