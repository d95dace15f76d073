using System.Collections.Specialized;
using System.IO.Compression;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Weights;

/// <summary>
/// Saves weights in files PyTorch reads: <c>.pth</c> (zip, written through TorchSharp.PyBridge, loadable with
/// <c>torch.load</c> and <c>load_state_dict</c>) or <c>.safetensors</c>. Values are written bit for bit.
/// </summary>
public static class WeightsWriter
{
    /// <summary>The format implied by the extension: <c>.safetensors</c> → safetensors, anything else → PyTorch zip.</summary>
    public static WeightsFormat FormatOf(string path) =>
        Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase) ? WeightsFormat.Safetensors : WeightsFormat.PyTorchZip;

    /// <summary>Saves <paramref name="model"/>'s state dict (parameters and buffers, in PyTorch's order).</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">Target file; its folder is created if needed.</param>
    /// <param name="format">The format; by default from the extension.</param>
    public static void Save(nn.Module model, string path, WeightsFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Save(StateDictOrder.Of(model), path, format);
    }

    /// <summary>Saves named tensors (a state dict) in the given or implied format.</summary>
    public static void Save(IEnumerable<(string Name, Tensor Tensor)> tensors, string path, WeightsFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(path);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var list = tensors.ToList();
        var duplicate = list.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"The tensor name '{duplicate.Key}' occurs twice.", nameof(tensors));
        if ((format ?? FormatOf(path)) == WeightsFormat.Safetensors)
        {
            SafetensorsCodec.Write(path, list);
            return;
        }
        SavePyTorch(list, path);
    }

    private static void SavePyTorch(List<(string Name, Tensor Tensor)> tensors, string path)
    {
        using var scope = NewDisposeScope();
        var data = tensors.Select(p => p.Tensor.detach().cpu().contiguous()).ToList();

        // PyBridge writes the pickle (data.pkl: names, dtypes, shapes, strides, storage keys) and one deflated record
        // per storage, numbered in the order of the dictionary. Deflating real weights is slow (≈7 s for ResNet-50),
        // so PyBridge pickles zero-filled placeholders of the same shapes and dtypes, and the real bytes are then
        // written as stored (uncompressed) records, as torch.save does.
        var placeholders = new OrderedDictionary(tensors.Count);
        for (int i = 0; i < tensors.Count; i++)
            placeholders.Add(tensors[i].Name, zeros(data[i].shape, data[i].dtype));
        using var pickled = new MemoryStream();
        PyTorchPickler.PickleStateDict(pickled, placeholders, leaveOpen: true);
        pickled.Position = 0;

        string temp = path + ".tmp";
        using (var source = new ZipArchive(pickled, ZipArchiveMode.Read, leaveOpen: true))
        {
            var records = source.Entries.Where(e => RecordIndex(e.FullName) >= 0).ToDictionary(e => RecordIndex(e.FullName));
            if (records.Count != data.Count || Enumerable.Range(0, data.Count).Any(i => !records.TryGetValue(i, out var r) || r.Length != data[i].numel() * data[i].element_size()))
                throw new InvalidOperationException(
                    "TorchSharp.PyBridge wrote an unexpected record layout (one record per tensor, numbered in dictionary order, was expected).");
            using var file = File.Create(temp);
            using var target = new ZipArchive(file, ZipArchiveMode.Create);
            foreach (var entry in source.Entries)
            {
                var copy = target.CreateEntry(entry.FullName, CompressionLevel.NoCompression);
                using var to = copy.Open();
                int index = RecordIndex(entry.FullName);
                if (index >= 0)
                {
                    if (data[index].numel() > 0) to.Write(data[index].bytes);
                }
                else
                {
                    using var from = entry.Open();
                    from.CopyTo(to);
                }
            }
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The storage number of a record "archive/data/N", or −1 for data.pkl, version and others.</summary>
    private static int RecordIndex(string entryName)
    {
        int slash = entryName.LastIndexOf('/');
        if (slash < 5 || !entryName.AsSpan(0, slash).EndsWith("/data")) return -1;
        return int.TryParse(entryName.AsSpan(slash + 1), out int i) ? i : -1;
    }
}
