using Man.Vision.Backbones.ResNets;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Weights;

/// <summary>
/// Loads weights into any model by tensor name (never by position): torchvision <c>.pth</c> files, safetensors,
/// nested checkpoints and our own saved weights. Returns a <see cref="LoadReport"/>; strict loading throws a
/// <see cref="WeightLoadException"/> listing the problems and changes nothing.
/// </summary>
public static class WeightLoader
{
    /// <summary>Reads <paramref name="path"/> and loads it into <paramref name="model"/>.</summary>
    /// <exception cref="WeightsFileException">The file cannot be read (format, truncation, whole model, …).</exception>
    /// <exception cref="WeightLoadException">Strict loading found problems, or no tensor matched at all.</exception>
    public static LoadReport Load(nn.Module model, string path, WeightLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = NewDisposeScope();
        using var file = WeightsReader.Read(path);
        return Load(model, file.Tensors, path, options, file.Format, file.Notes);
    }

    /// <summary>Loads the backbone part of <paramref name="path"/> (everything but <c>fc</c>) into <paramref name="model"/>.</summary>
    public static LoadReport LoadBackbone(nn.Module model, string path, bool strict = false) =>
        Load(model, path, WeightLoadOptions.BackboneOnly with { Strict = strict });

    /// <summary>Loads named tensors (e.g. another model's state dict) into <paramref name="model"/>.</summary>
    /// <param name="model">The model to fill.</param>
    /// <param name="tensors">Tensor name → values; not modified.</param>
    /// <param name="source">Where the tensors come from, for the report.</param>
    /// <param name="options">Prefix mapping, exclusions, strictness.</param>
    public static LoadReport Load(nn.Module model, IReadOnlyDictionary<string, Tensor> tensors, string source, WeightLoadOptions? options = null) =>
        Load(model, tensors, source, options, null, []);

    private static LoadReport Load(nn.Module model, IReadOnlyDictionary<string, Tensor> tensors, string source, WeightLoadOptions? options,
                                   WeightsFormat? format, IReadOnlyList<string> fileNotes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tensors);
        options ??= new WeightLoadOptions();
        options.Validate();

        var modelSd = model.state_dict();
        bool Excluded(string relative) => options.ExcludePrefixes.Any(p => relative.StartsWith(p, StringComparison.Ordinal));
        static bool IsCounter(string name) => name.EndsWith("num_batches_tracked", StringComparison.Ordinal);

        var inScope = modelSd.Keys.Where(k => k.StartsWith(options.TargetPrefix, StringComparison.Ordinal)).ToList();
        var loaded = new List<(string ModelKey, Tensor Source)>();
        var unexpected = new List<string>();
        var mismatches = new List<ShapeMismatch>();
        var conversions = new List<DTypeConversion>();
        var skipped = new List<string>();
        var notes = new List<string>(fileNotes);
        var matchedModelKeys = new HashSet<string>(StringComparer.Ordinal);

        foreach (var name in tensors.Keys.Order(NaturalNameComparer.Instance))
        {
            if (!name.StartsWith(options.SourcePrefix, StringComparison.Ordinal))
            {
                skipped.Add(name);
                continue;
            }
            string relative = name[options.SourcePrefix.Length..];
            string modelKey = options.TargetPrefix + relative;
            if (Excluded(relative))
            {
                skipped.Add(name);
                continue;
            }
            var src = tensors[name];
            if (!modelSd.TryGetValue(modelKey, out var target))
            {
                if (IsCounter(relative)) skipped.Add(name); // FrozenBatchNorm2d keeps no counter
                else unexpected.Add(modelKey);
                continue;
            }
            matchedModelKeys.Add(modelKey);
            if (!ShapesCompatible(target.shape, src.shape))
            {
                mismatches.Add(new ShapeMismatch(modelKey, target.shape, src.shape));
                continue;
            }
            if (target.dtype != src.dtype)
                conversions.Add(new DTypeConversion(modelKey, src.dtype, target.dtype));
            loaded.Add((modelKey, src));
        }

        var missing = new List<string>();
        foreach (var key in inScope)
        {
            if (matchedModelKeys.Contains(key)) continue;
            string relative = key[options.TargetPrefix.Length..];
            if (Excluded(relative) || IsCounter(relative)) continue;
            missing.Add(key);
        }

        var badConversions = options.AllowDTypeConversion ? [] : conversions;
        if (conversions.Count > 0)
        {
            foreach (var g in conversions.GroupBy(c => (c.From, c.To)))
                notes.Add($"converted {g.Count()} tensor(s) from {ShapeFormat.DType(g.Key.From)} to the model's {ShapeFormat.DType(g.Key.To)}" +
                          (g.Key.From is ScalarType.Float16 or ScalarType.BFloat16 ? " (values keep the reduced precision of the file)" : ""));
        }
        int inScopeCount = inScope.Count(k => !Excluded(k[options.TargetPrefix.Length..]));
        bool problems = missing.Count > 0 || unexpected.Count > 0 || mismatches.Count > 0;
        if (problems || loaded.Count == 0) AddHints(model, tensors, options, notes, unexpected, loaded.Count);

        var report = new LoadReport(source, format, loaded.Select(l => l.ModelKey).ToList(), missing, unexpected, mismatches,
                                     conversions, skipped, notes, inScopeCount);
        if (badConversions.Count > 0)
            throw new WeightLoadException(
                $"Weights '{source}' store other dtypes than the model ({badConversions.Count} tensors, e.g. {badConversions[0].Name}: " +
                $"{ShapeFormat.DType(badConversions[0].From)} vs {ShapeFormat.DType(badConversions[0].To)}) and dtype conversion is off. " +
                "Allow it (AllowDTypeConversion = true) or convert the file.\n" + report.ToText(), report);
        if (loaded.Count == 0 && inScopeCount > 0)
            throw new WeightLoadException(
                $"No tensor of '{source}' fits the model: nothing was loaded. Check the architecture and the prefixes.\n" + report.ToText(), report);
        if (options.Strict && problems)
            throw new WeightLoadException(
                $"Weights '{source}' do not fit the model exactly (strict): {missing.Count} missing, {unexpected.Count} unexpected, " +
                $"{mismatches.Count} shape mismatches; nothing was loaded. Use the matching architecture, or load non-strictly " +
                "(e.g. WeightLoadOptions.BackboneOnly for a different classifier).\n" + report.ToText(), report);

        using (no_grad())
        {
            foreach (var (key, src) in loaded)
            {
                var target = modelSd[key];
                using var reshaped = src.reshape(target.shape);
                target.copy_(reshaped);
            }
        }
        return report;
    }

    /// <summary>Equal shapes, or a scalar stored as [1] (PyBridge reads 0-d tensors as [1]).</summary>
    private static bool ShapesCompatible(long[] model, long[] file)
    {
        if (model.SequenceEqual(file)) return true;
        long n1 = model.Aggregate(1L, (a, b) => a * b), n2 = file.Aggregate(1L, (a, b) => a * b);
        return n1 == 1 && n2 == 1 && model.Length <= 1 && file.Length <= 1;
    }

    private static void AddHints(nn.Module model, IReadOnlyDictionary<string, Tensor> tensors, WeightLoadOptions options, List<string> notes,
                                 List<string> unexpected, int loaded)
    {
        var fileShapes = tensors
            .Where(p => p.Key.StartsWith(options.SourcePrefix, StringComparison.Ordinal))
            .ToDictionary(p => p.Key[options.SourcePrefix.Length..], p => p.Value.shape);
        string? fileArch = ResNetArchitecture.Describe(fileShapes);
        string? modelArch = model is ResNet r
            ? ResNetArchitecture.Describe(r.state_dict().ToDictionary(p => p.Key, p => p.Value.shape))
            : null;
        if (fileArch is not null || modelArch is not null)
        {
            string text = $"the file looks like {fileArch ?? "no ResNet"}; the model is {modelArch ?? model.GetType().Name}";
            if (fileArch is not null && modelArch is not null && fileArch != modelArch) text += ": build the model with the file's architecture, or load non-strictly";
            notes.Add(text);
        }
        if (loaded == 0 && unexpected.Count > 0)
        {
            var modelKeys = model.state_dict().Keys.ToHashSet(StringComparer.Ordinal);
            var firstParts = unexpected.Select(u => u.Split('.')[0] + ".").GroupBy(p => p).OrderByDescending(g => g.Count()).First().Key;
            if (unexpected.Any(u => u.StartsWith(firstParts, StringComparison.Ordinal) && modelKeys.Contains(u[firstParts.Length..])))
                notes.Add($"the file's names start with '{options.SourcePrefix}{firstParts}': load with SourcePrefix = \"{options.SourcePrefix}{firstParts}\"");
            var modelFirst = modelKeys.Select(k => k.Split('.')[0] + ".").GroupBy(p => p).OrderByDescending(g => g.Count()).FirstOrDefault()?.Key;
            if (modelFirst is not null && unexpected.Any(u => modelKeys.Contains(modelFirst + u)))
                notes.Add($"the model's names start with '{modelFirst}': load with TargetPrefix = \"{modelFirst}\"");
        }
    }
}
