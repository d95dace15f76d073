namespace Man.Vision.Data.Synthetic;

/// <summary>What <c>SyntheticDataWriter.Write</c> wrote.</summary>
/// <param name="Root">The output folder (see <see cref="SyntheticLayout"/>).</param>
/// <param name="Task">The task the data was tuned for.</param>
/// <param name="Seed">The seed.</param>
/// <param name="TrainImages">Images in the train split.</param>
/// <param name="ValImages">Images in the val split.</param>
/// <param name="Objects">Objects over all images.</param>
/// <param name="ObjectsPerClass">Objects by class name.</param>
public sealed record SyntheticDataSummary(string Root, SyntheticTask Task, int Seed, int TrainImages, int ValImages, int Objects, IReadOnlyDictionary<string, int> ObjectsPerClass)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{TrainImages + ValImages} images ({TrainImages} train, {ValImages} val), {Objects} objects " +
        $"({string.Join(", ", ObjectsPerClass.Select(kv => $"{kv.Key} {kv.Value}"))}) in {Root}";
}
