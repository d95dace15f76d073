namespace Man.Vision.Data.Evaluation;

/// <summary>
/// Runs several evaluators on the same stream of batches and merges their metrics into one dictionary
/// (detectron2's <c>DatasetEvaluators</c>). Two evaluators that report the same key are an error, not a silent
/// overwrite.
/// </summary>
public sealed class CompositeEvaluator<TInput, TOutput> : IEvaluator<TInput, TOutput>
{
    private readonly IReadOnlyList<IEvaluator<TInput, TOutput>> _evaluators;

    /// <summary>Creates a composite over <paramref name="evaluators"/> (at least one, none null).</summary>
    public CompositeEvaluator(params IEvaluator<TInput, TOutput>[] evaluators)
        : this((IEnumerable<IEvaluator<TInput, TOutput>>)evaluators)
    {
    }

    /// <inheritdoc cref="CompositeEvaluator{TInput, TOutput}(IEvaluator{TInput, TOutput}[])"/>
    public CompositeEvaluator(IEnumerable<IEvaluator<TInput, TOutput>> evaluators)
    {
        ArgumentNullException.ThrowIfNull(evaluators);
        var list = evaluators.ToList();
        if (list.Count == 0)
            throw new ArgumentException("A composite evaluator needs at least one evaluator.", nameof(evaluators));
        for (int i = 0; i < list.Count; i++)
            if (list[i] is null)
                throw new ArgumentException($"Evaluator #{i} of the composite is null.", nameof(evaluators));
        _evaluators = list;
    }

    /// <summary>The evaluators in the order they run.</summary>
    public IReadOnlyList<IEvaluator<TInput, TOutput>> Evaluators => _evaluators;

    /// <inheritdoc/>
    public void Reset()
    {
        foreach (var e in _evaluators) e.Reset();
    }

    /// <inheritdoc/>
    public void Process(IReadOnlyList<TInput> inputs, IReadOnlyList<TOutput> outputs)
    {
        EvaluatorGuards.CheckBatch(inputs, outputs);
        foreach (var e in _evaluators) e.Process(inputs, outputs);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">Two evaluators report the same metric key.</exception>
    public IReadOnlyDictionary<string, double> Evaluate()
    {
        var merged = new Dictionary<string, double>(StringComparer.Ordinal);
        var owner = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _evaluators.Count; i++)
        {
            foreach (var (key, value) in _evaluators[i].Evaluate())
            {
                if (owner.TryGetValue(key, out int first))
                    throw new InvalidOperationException(
                        $"Evaluators #{first} ({_evaluators[first].GetType().Name}) and #{i} ({_evaluators[i].GetType().Name}) " +
                        $"both report the metric '{key}'; give them distinct keys.");
                owner[key] = i;
                merged[key] = value;
            }
        }
        return merged;
    }
}
