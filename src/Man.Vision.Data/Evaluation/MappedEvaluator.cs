namespace Man.Vision.Data.Evaluation;

/// <summary>
/// Adapts an evaluator to other input/output types by converting each sample before it is processed, so that a
/// task's evaluators can be fed the records and predictions a runner has (see <see cref="EvaluatorExtensions.Map"/>).
/// </summary>
public sealed class MappedEvaluator<TInput, TOutput, TInnerInput, TInnerOutput> : IEvaluator<TInput, TOutput>
{
    private readonly IEvaluator<TInnerInput, TInnerOutput> _inner;
    private readonly Func<TInput, TInnerInput> _mapInput;
    private readonly Func<TOutput, TInnerOutput> _mapOutput;

    /// <summary>Wraps <paramref name="inner"/>; the two functions convert one sample each.</summary>
    public MappedEvaluator(IEvaluator<TInnerInput, TInnerOutput> inner, Func<TInput, TInnerInput> mapInput, Func<TOutput, TInnerOutput> mapOutput)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        _mapInput = mapInput ?? throw new ArgumentNullException(nameof(mapInput));
        _mapOutput = mapOutput ?? throw new ArgumentNullException(nameof(mapOutput));
    }

    /// <summary>The wrapped evaluator.</summary>
    public IEvaluator<TInnerInput, TInnerOutput> Inner => _inner;

    /// <inheritdoc/>
    public void Reset() => _inner.Reset();

    /// <inheritdoc/>
    public void Process(IReadOnlyList<TInput> inputs, IReadOnlyList<TOutput> outputs)
    {
        EvaluatorGuards.CheckBatch(inputs, outputs);
        var mappedInputs = new TInnerInput[inputs.Count];
        var mappedOutputs = new TInnerOutput[outputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            mappedInputs[i] = _mapInput(inputs[i]);
            mappedOutputs[i] = _mapOutput(outputs[i]);
        }
        _inner.Process(mappedInputs, mappedOutputs);
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, double> Evaluate() => _inner.Evaluate();
}
