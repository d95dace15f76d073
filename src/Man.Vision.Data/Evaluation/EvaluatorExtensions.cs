namespace Man.Vision.Data.Evaluation;

/// <summary>Helpers to combine and adapt <see cref="IEvaluator{TInput, TOutput}"/> implementations.</summary>
public static class EvaluatorExtensions
{
    /// <summary>
    /// An evaluator over <typeparamref name="TInput"/>/<typeparamref name="TOutput"/> that converts each sample and feeds
    /// <paramref name="evaluator"/>; e.g. a data set record to a ground-truth record and a model's tensors to arrays.
    /// </summary>
    public static IEvaluator<TInput, TOutput> Map<TInput, TOutput, TInnerInput, TInnerOutput>(
        this IEvaluator<TInnerInput, TInnerOutput> evaluator,
        Func<TInput, TInnerInput> mapInput,
        Func<TOutput, TInnerOutput> mapOutput) =>
        new MappedEvaluator<TInput, TOutput, TInnerInput, TInnerOutput>(evaluator, mapInput, mapOutput);

    /// <summary>
    /// Runs a whole pass: <see cref="IEvaluator{TInput, TOutput}.Reset"/>, one
    /// <see cref="IEvaluator{TInput, TOutput}.Process"/> per batch, <see cref="IEvaluator{TInput, TOutput}.Evaluate"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, double> EvaluateAll<TInput, TOutput>(
        this IEvaluator<TInput, TOutput> evaluator,
        IEnumerable<(IReadOnlyList<TInput> Inputs, IReadOnlyList<TOutput> Outputs)> batches)
    {
        ArgumentNullException.ThrowIfNull(evaluator);
        ArgumentNullException.ThrowIfNull(batches);
        evaluator.Reset();
        foreach (var (inputs, outputs) in batches)
            evaluator.Process(inputs, outputs);
        return evaluator.Evaluate();
    }
}
