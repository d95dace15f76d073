namespace Man.Vision.Backbones.Weights;

/// <summary>
/// How file tensors map onto model tensors. Matching is always by name: a file name <c>k</c> that starts with
/// <see cref="SourcePrefix"/> becomes the relative name <c>r = k − SourcePrefix</c> and goes to the model tensor
/// <c>TargetPrefix + r</c>. Only model tensors under <see cref="TargetPrefix"/> are in scope.
/// </summary>
public sealed record WeightLoadOptions
{
    /// <summary>Refuse (throw <see cref="WeightLoadException"/>, copy nothing) on any missing, unexpected or mismatched tensor.</summary>
    public bool Strict { get; init; }

    /// <summary>Prefix of the file names to take (others are skipped), e.g. "backbone.body." for a detector checkpoint.</summary>
    public string SourcePrefix { get; init; } = "";

    /// <summary>Prefix of the model names to fill, e.g. "backbone.body." to load a classifier's weights into a detector.</summary>
    public string TargetPrefix { get; init; } = "";

    /// <summary>Relative names starting with any of these are neither loaded nor reported missing/unexpected (e.g. "fc.").</summary>
    public IReadOnlyList<string> ExcludePrefixes { get; init; } = [];

    /// <summary>Convert stored dtypes to the model's (float16 → float32, …), listed in the report; false makes it an error.</summary>
    public bool AllowDTypeConversion { get; init; } = true;

    /// <summary>The backbone part only: everything but the classifier <c>fc</c> (for a model whose head differs).</summary>
    public static WeightLoadOptions BackboneOnly { get; } = new() { ExcludePrefixes = ["fc."] };

    /// <summary>Everything, refusing any difference.</summary>
    public static WeightLoadOptions StrictAll { get; } = new() { Strict = true };

    internal void Validate()
    {
        if (SourcePrefix is null || TargetPrefix is null || ExcludePrefixes is null)
            throw new ArgumentException("WeightLoadOptions: SourcePrefix, TargetPrefix and ExcludePrefixes must not be null.");
        foreach (var p in new[] { SourcePrefix, TargetPrefix })
            if (p.Length > 0 && !p.EndsWith('.'))
                throw new ArgumentException($"WeightLoadOptions: the prefix '{p}' must end with '.' (e.g. \"backbone.body.\").");
    }
}
