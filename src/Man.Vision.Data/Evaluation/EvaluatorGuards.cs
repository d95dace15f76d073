namespace Man.Vision.Data.Evaluation;

/// <summary>Argument checks shared by evaluator implementations.</summary>
public static class EvaluatorGuards
{
    /// <summary>
    /// Throws when <paramref name="inputs"/> or <paramref name="outputs"/> is null or when their lengths differ.
    /// </summary>
    public static void CheckBatch<TInput, TOutput>(IReadOnlyList<TInput> inputs, IReadOnlyList<TOutput> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        if (inputs.Count != outputs.Count)
            throw new ArgumentException(
                $"An evaluated batch has {inputs.Count} inputs but {outputs.Count} outputs; they must pair one to one.",
                nameof(outputs));
    }
}
