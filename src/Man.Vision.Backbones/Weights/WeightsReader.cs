using System.Collections;
using Razorvine.Pickle.Objects;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Weights;

/// <summary>
/// Reads state dicts from PyTorch zip files (<c>.pth</c>, <c>.pt</c>, <c>.bin</c>, through TorchSharp.PyBridge) and
/// safetensors files. Nested checkpoints (a <c>state_dict</c> or <c>model</c> entry) are unwrapped and DataParallel's
/// <c>module.</c> prefixes stripped; legacy, truncated, foreign or whole-model files are rejected with a
/// <see cref="WeightsFileException"/> saying what was found and what to do.
/// </summary>
public static class WeightsReader
{
    /// <summary>Entries of a checkpoint dictionary that hold the model's state dict, in the order they are tried.</summary>
    public static IReadOnlyList<string> NestedKeys { get; } = ["state_dict", "model", "model_state_dict", "model_state", "net", "module"];

    private static readonly byte[] LegacyMagic = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

    /// <summary>The format of <paramref name="path"/>, judged by its first bytes (not its extension).</summary>
    /// <exception cref="WeightsFileException">Missing, empty, legacy or unrecognised file.</exception>
    public static WeightsFormat DetectFormat(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
            throw new WeightsFileException(path, "is a directory; give the path of a .pth/.pt/.bin or .safetensors file.");
        if (!File.Exists(path))
            throw new WeightsFileException(path, "does not exist.");
        using var fs = File.OpenRead(path);
        if (fs.Length == 0) throw new WeightsFileException(path, "is empty (0 bytes). Download or save it again.");
        var head = new byte[Math.Min(16, fs.Length)];
        fs.ReadExactly(head);
        if (head.Length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4)
            return WeightsFormat.PyTorchZip;
        if (SafetensorsCodec.LooksLikeSafetensors(head, fs.Length))
            return WeightsFormat.Safetensors;
        if (head.AsSpan().StartsWith(LegacyMagic))
            throw new WeightsFileException(path,
                "is in PyTorch's legacy serialisation (torch.save before PyTorch 1.6, or _use_new_zipfile_serialization=False), which cannot be read here. " +
                "Convert it with Python: torch.save(torch.load('IN', map_location='cpu'), 'OUT.pth') using PyTorch >= 1.6, then load OUT.pth.");
        if (head[0] == 0x80)
            throw new WeightsFileException(path,
                "is a plain Python pickle, not a torch.save file. Save the weights with torch.save(model.state_dict(), 'OUT.pth') " +
                "(or as .safetensors) and load that.");
        string bytes = string.Join(" ", head.Take(8).Select(b => b.ToString("x2")));
        throw new WeightsFileException(path,
            $"is not a recognised weights file (it starts with bytes {bytes}). Expected a PyTorch file written by torch.save " +
            "(a zip archive: .pth/.pt/.bin) or a .safetensors file. Files written by TorchSharp's Module.save are read with Module.load instead.");
    }

    /// <summary>Reads every tensor of <paramref name="path"/> (on the CPU, in the stored dtype).</summary>
    /// <exception cref="WeightsFileException">The file cannot be read as a state dict (the message says why and what to do).</exception>
    public static StateDictFile Read(string path)
    {
        var format = DetectFormat(path);
        var notes = new List<string>();
        var tensors = format == WeightsFormat.Safetensors ? ReadSafetensors(path) : ReadPyTorch(path, notes);
        if (tensors.Count == 0)
            throw new WeightsFileException(path, "holds no tensors.");

        const string dp = "module.";
        if (tensors.All(p => p.Name.StartsWith(dp, StringComparison.Ordinal)))
        {
            tensors = tensors.Select(p => (p.Name[dp.Length..], p.Tensor)).ToList();
            notes.Add($"stripped the DataParallel prefix '{dp}' from all {tensors.Count} names");
        }
        var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in tensors)
        {
            if (!dict.TryAdd(name, t))
                throw new WeightsFileException(path, $"holds the tensor name '{name}' twice.");
        }
        var names = format == WeightsFormat.Safetensors
            ? tensors.Select(p => p.Name).ToList()
            : tensors.Select(p => p.Name).Order(NaturalNameComparer.Instance).ToList();
        return new StateDictFile(path, format, names, dict, notes);
    }

    private static List<(string Name, Tensor Tensor)> ReadSafetensors(string path)
    {
        using var fs = File.OpenRead(path);
        var entries = SafetensorsCodec.ReadHeader(path, fs);
        var result = new List<(string, Tensor)>(entries.Count);
        foreach (var (info, begin, end) in entries.OrderBy(e => e.Begin))
            result.Add((info.Name, SafetensorsCodec.ReadTensor(fs, info, begin, end)));
        // Header order is the file's key order; keep it.
        var order = entries.Select((e, i) => (e.Info.Name, i)).ToDictionary(p => p.Name, p => p.i);
        return result.OrderBy(p => order[p.Item1]).ToList();
    }

    private static List<(string Name, Tensor Tensor)> ReadPyTorch(string path, List<string> notes)
    {
        Hashtable root;
        try
        {
            using var fs = File.OpenRead(path);
            root = PyTorchUnpickler.UnpickleStateDict(fs, leaveOpen: false);
        }
        catch (InvalidDataException e)
        {
            throw new WeightsFileException(path,
                $"the zip archive is damaged or truncated ({e.Message}). Download or save the file again.", e);
        }
        catch (NotImplementedException e) when (e.Message.Contains("entire model", StringComparison.OrdinalIgnoreCase))
        {
            throw WholeModel(path, "nn.Parameter objects of a pickled module", e);
        }
        catch (InvalidOperationException e) when (e.Message.Contains("Sequence contains no matching element", StringComparison.Ordinal))
        {
            throw new WeightsFileException(path,
                "is a zip archive without a data.pkl record, so it was not written by torch.save. Save the weights with torch.save(model.state_dict(), 'OUT.pth').", e);
        }
        catch (Exception e) when (e is not WeightsFileException and not OutOfMemoryException)
        {
            throw new WeightsFileException(path,
                $"could not be unpickled as a state dict ({e.GetType().Name}: {e.Message}). If it holds a pickled model or custom objects, " +
                "re-save only the weights with torch.save(model.state_dict(), 'OUT.pth').", e);
        }
        return Unwrap(path, root, notes, "");
    }

    private static List<(string Name, Tensor Tensor)> Unwrap(string path, IDictionary dict, List<string> notes, string where)
    {
        var tensors = new List<(string, Tensor)>();
        var others = new List<(string Key, object? Value)>();
        foreach (DictionaryEntry e in dict)
        {
            string key = e.Key?.ToString() ?? "";
            if (e.Value is Tensor t) tensors.Add((key, t));
            else others.Add((key, e.Value));
        }
        if (tensors.Count > 0)
        {
            if (others.Count > 0)
                notes.Add($"ignored {others.Count} non-tensor entr{(others.Count == 1 ? "y" : "ies")}{where}: {string.Join(", ", others.Select(o => o.Key).Order(StringComparer.Ordinal))}");
            return tensors;
        }
        foreach (string nested in NestedKeys)
        {
            var hit = others.FirstOrDefault(o => o.Key == nested);
            if (hit.Key is null) continue;
            if (hit.Value is ClassDict cd)
                throw WholeModel(path, $"the entry '{nested}' holding an object of class {cd.ClassName}", null);
            if (hit.Value is IDictionary inner)
            {
                var skipped = others.Where(o => o.Key != nested).Select(o => o.Key).Order(StringComparer.Ordinal).ToList();
                notes.Add($"took the checkpoint entry '{nested}'{where}" + (skipped.Count > 0 ? $" (other entries: {string.Join(", ", skipped)})" : ""));
                return Unwrap(path, inner, notes, $" of '{nested}'");
            }
        }
        if (others.Any(o => o.Value is ClassDict))
        {
            var cd = (ClassDict)others.First(o => o.Value is ClassDict).Value!;
            throw WholeModel(path, $"an object of class {cd.ClassName}", null);
        }
        string keys = others.Count == 0 ? "none" : string.Join(", ", others.Take(12).Select(o => $"'{o.Key}' ({TypeName(o.Value)})"));
        throw new WeightsFileException(path,
            $"holds no tensors{where}: its entries are {keys}. Expected a state dict (name → tensor) or a checkpoint with one of the entries " +
            $"{string.Join(", ", NestedKeys.Select(k => $"'{k}'"))}.");
    }

    private static string TypeName(object? v) => v switch
    {
        null => "None",
        ClassDict cd => cd.ClassName,
        IDictionary => "dict",
        string => "str",
        int or long => "int",
        double => "float",
        _ => v.GetType().Name,
    };

    private static WeightsFileException WholeModel(string path, string found, Exception? inner) => new(path,
        $"holds a pickled whole model ({found}) instead of a state dict. In Python, load it and save only the weights: " +
        "model = torch.load('IN'); torch.save(model.state_dict(), 'OUT.pth'), then load OUT.pth.", inner);
}
