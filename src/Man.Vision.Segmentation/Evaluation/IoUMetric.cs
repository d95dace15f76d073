using Man.Vision.Data.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Evaluation;

/// <summary>
/// mmsegmentation's <c>IoUMetric</c>: over a whole data set, accumulates per class the intersection, union, predicted
/// and label areas of the pixels whose label is not the ignore index, then reports per-class IoU and accuracy, mIoU,
/// aAcc and mAcc (see <see cref="SegmentationMetrics"/>).
/// </summary>
/// <remarks>
/// The areas come from one confusion matrix <c>[C, C]</c> (rows = label, columns = prediction), accumulated with a
/// <c>bincount</c> of <c>label·C + prediction</c> over the valid pixels of each batch. Unlike mmsegmentation, which
/// silently drops values outside [0, C) through <c>histc</c>, out-of-range labels or predictions are an error.
/// As an <see cref="IEvaluator{TInput, TOutput}"/> its inputs are label maps and its outputs predicted class maps, one
/// per sample (<see cref="ProcessSamples"/>), and <c>Evaluate</c> gives <see cref="SegmentationMetrics.ToDictionary"/>.
/// </remarks>
public sealed class IoUMetric : IEvaluator<Tensor, Tensor>
{
    private readonly long[] confusion;

    /// <summary>Creates the metric.</summary>
    /// <param name="numClasses">C, the number of classes.</param>
    /// <param name="ignoreIndex">Label of pixels left out (255).</param>
    /// <param name="classNames">Names of the C classes, or null for "0", "1", ….</param>
    /// <exception cref="ArgumentException">C is not positive, the ignore index lies in [0, C), or the names do not number C.</exception>
    public IoUMetric(int numClasses, long ignoreIndex = 255, IReadOnlyList<string>? classNames = null)
    {
        if (numClasses <= 0) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The number of classes must be positive.");
        if (ignoreIndex >= 0 && ignoreIndex < numClasses)
            throw new ArgumentOutOfRangeException(nameof(ignoreIndex), ignoreIndex, $"The ignore index must not be a class index in [0, {numClasses}).");
        if (classNames is not null && classNames.Count != numClasses)
            throw new ArgumentException($"{classNames.Count} class names given for {numClasses} classes.", nameof(classNames));
        NumClasses = numClasses;
        IgnoreIndex = ignoreIndex;
        ClassNames = classNames?.ToArray() ?? Enumerable.Range(0, numClasses).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (ClassNames.Distinct(StringComparer.Ordinal).Count() != numClasses)
            throw new ArgumentException("Class names must be distinct (they are the keys of the per-class results).", nameof(classNames));
        confusion = new long[(long)numClasses * numClasses];
    }

    /// <summary>C.</summary>
    public int NumClasses { get; }

    /// <summary>Label of pixels left out.</summary>
    public long IgnoreIndex { get; }

    /// <summary>Class names, C of them.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Number of batches processed since the last <see cref="Reset"/>.</summary>
    public int Processed { get; private set; }

    /// <summary>The accumulated confusion matrix, row-major <c>[label, prediction]</c>, C·C entries (a copy).</summary>
    public long[] ConfusionMatrix => (long[])confusion.Clone();

    /// <summary>Forgets everything accumulated.</summary>
    public void Reset()
    {
        Array.Clear(confusion);
        Processed = 0;
    }

    /// <summary>Adds a batch.</summary>
    /// <param name="predictions">Predicted classes, any integer type, any shape (e.g. <c>[N, H, W]</c>), values in [0, C).</param>
    /// <param name="labels">Labels of the same shape: values in [0, C) or the ignore index.</param>
    /// <exception cref="ArgumentException">Shapes differ, a tensor is not integral, or a value is out of range.</exception>
    public void Process(Tensor predictions, Tensor labels)
    {
        if (!predictions.shape.SequenceEqual(labels.shape))
            throw new ArgumentException(
                $"Predictions [{string.Join(", ", predictions.shape)}] and labels [{string.Join(", ", labels.shape)}] differ in shape.");
        if (!is_integral(predictions.dtype) || !is_integral(labels.dtype))
            throw new ArgumentException($"Predictions ({predictions.dtype}) and labels ({labels.dtype}) must be integer tensors.");
        using var scope = NewDisposeScope();
        Tensor label = labels.reshape(-1).to(ScalarType.Int64, CPU);
        Tensor pred = predictions.reshape(-1).to(ScalarType.Int64, CPU);
        Tensor valid = label.ne(IgnoreIndex);
        label = label.masked_select(valid);
        pred = pred.masked_select(valid);
        if (label.numel() > 0)
        {
            CheckRange(label, "Label", $" other than the ignore index {IgnoreIndex}");
            CheckRange(pred, "Prediction", "");
            long c = NumClasses;
            Tensor counts = label.mul(c).add_(pred).bincount(null, c * c);
            long[] add = counts.data<long>().ToArray();
            for (int i = 0; i < add.Length; i++) confusion[i] += add[i];
        }
        Processed++;
    }

    /// <summary>
    /// Adds a batch given sample by sample, in the order of the shared evaluator contract (inputs, then outputs):
    /// <c>labels[i]</c> and <c>predictions[i]</c> belong to one image and may differ in size from other images.
    /// </summary>
    /// <exception cref="ArgumentException">The lists differ in length, or a pair is invalid (the message gives its index).</exception>
    public void ProcessSamples(IReadOnlyList<Tensor> labels, IReadOnlyList<Tensor> predictions)
    {
        if (labels.Count != predictions.Count)
            throw new ArgumentException($"A batch has {labels.Count} label maps but {predictions.Count} predictions; they must pair one to one.", nameof(predictions));
        for (int i = 0; i < labels.Count; i++)
        {
            try
            {
                Process(predictions[i], labels[i]);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Sample {i} of the batch: {e.Message}", e);
            }
        }
    }

    /// <summary>The metrics of everything processed since the last <see cref="Reset"/>.</summary>
    public SegmentationMetrics Evaluate() => SegmentationMetrics.FromConfusionMatrix(confusion, NumClasses, ClassNames);

    /// <inheritdoc cref="ProcessSamples"/>
    void IEvaluator<Tensor, Tensor>.Process(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor> outputs)
    {
        EvaluatorGuards.CheckBatch(inputs, outputs);
        ProcessSamples(inputs, outputs);
    }

    /// <summary>"mIoU", "aAcc", "mAcc", "IoU.{class}", "Acc.{class}" (see <see cref="SegmentationMetrics.ToDictionary"/>).</summary>
    IReadOnlyDictionary<string, double> IEvaluator<Tensor, Tensor>.Evaluate() => Evaluate().ToDictionary();

    private void CheckRange(Tensor values, string what, string besides)
    {
        long min = values.min().item<long>(), max = values.max().item<long>();
        if (min < 0 || max >= NumClasses)
        {
            long bad = min < 0 ? min : max;
            long count = values.lt(0).logical_or(values.ge(NumClasses)).sum().item<long>();
            throw new ArgumentException(
                $"{what} value {bad} is outside [0, {NumClasses}){besides} ({count} pixel(s) out of range).");
        }
    }
}
