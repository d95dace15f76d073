namespace Man.Vision.Data.Evaluation;

/// <summary>
/// An evaluator fed batch by batch by an inference runner (detectron2's <c>DatasetEvaluator</c> contract):
/// <see cref="Reset"/> before a pass over the data, <see cref="Process"/> once per batch with the batch's inputs
/// and the model's outputs in the same order, <see cref="Evaluate"/> at the end.
/// </summary>
/// <typeparam name="TInput">What the runner knows about each sample (ids, ground truth).</typeparam>
/// <typeparam name="TOutput">What the model produced for each sample.</typeparam>
public interface IEvaluator<in TInput, in TOutput>
{
    /// <summary>Forgets everything processed so far; called before a new pass over the data.</summary>
    void Reset();

    /// <summary>
    /// Records one batch. <paramref name="inputs"/> and <paramref name="outputs"/> have the same length and
    /// <c>outputs[i]</c> belongs to <c>inputs[i]</c>. Implementations copy what they keep (tensors of the batch may be
    /// disposed after the call).
    /// </summary>
    void Process(IReadOnlyList<TInput> inputs, IReadOnlyList<TOutput> outputs);

    /// <summary>
    /// Computes the metrics over everything processed since the last <see cref="Reset"/>, as named numbers
    /// (e.g. <c>AP</c>, <c>AP50</c>, <c>mIoU</c>). Keys are unique within one evaluator.
    /// </summary>
    IReadOnlyDictionary<string, double> Evaluate();
}
