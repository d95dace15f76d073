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
        var dict = new OrderedDictionary(tensors.Count);
        foreach (var (name, t) in tensors)
            dict.Add(name, t.detach().cpu().contiguous());
        using var pickled = new MemoryStream();
        PyTorchPickler.PickleStateDict(pickled, dict, leaveOpen: true);
        pickled.Position = 0;

        // PyBridge deflates the records; torch.save stores them uncompressed. Re-pack as stored records so that both
        // PyTorch and readers that fetch a record in one read get every byte.
        string temp = path + ".tmp";
        using (var source = new ZipArchive(pickled, ZipArchiveMode.Read, leaveOpen: true))
        using (var file = File.Create(temp))
        using (var target = new ZipArchive(file, ZipArchiveMode.Create))
        {
            foreach (var entry in source.Entries)
            {
                var copy = target.CreateEntry(entry.FullName, CompressionLevel.NoCompression);
                using var from = entry.Open();
                using var to = copy.Open();
                from.CopyTo(to);
            }
        }
        File.Move(temp, path, overwrite: true);
    }
}
