using Man.Local;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Classification.Heads;

/// <summary>
/// The classification model's real head as the engine's main head: the model's own classifier (e.g. global
/// average pool + <c>fc</c>) on the last unit's output, cross-entropy loss named <c>loss_cls</c>.
/// </summary>
public sealed class ClassifierMainHead : MainHead<Tensor>
{
    private readonly nn.Module<Tensor, Tensor> classifier;

    /// <summary>Wraps <paramref name="classifier"/>, a module from the last features to logits [N, classes].</summary>
    public ClassifierMainHead(nn.Module<Tensor, Tensor> classifier) : base(nameof(ClassifierMainHead))
    {
        this.classifier = classifier;
        RegisterComponents();
    }

    /// <summary>Logits of the last unit's output.</summary>
    public Tensor Logits(Tensor last) => classifier.call(last);

    /// <summary>Training samples whose top-1 prediction matched since the last <see cref="ResetTrainAccuracy"/>.</summary>
    public long TrainCorrect { get; private set; }

    /// <summary>Training samples seen by <see cref="Losses"/> since the last <see cref="ResetTrainAccuracy"/>.</summary>
    public long TrainSeen { get; private set; }

    /// <summary>Top-1 accuracy in % of the training batches since the last reset (NaN before any).</summary>
    public double TrainAccuracy => TrainSeen == 0 ? double.NaN : 100.0 * TrainCorrect / TrainSeen;

    /// <summary>Starts a new count for <see cref="TrainAccuracy"/> (e.g. at each epoch).</summary>
    public void ResetTrainAccuracy() => (TrainCorrect, TrainSeen) = (0, 0);

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, Tensor> Losses(IReadOnlyDictionary<int, Tensor> outputs, Tensor last, Tensor target)
    {
        var logits = Logits(last);
        using (torch.no_grad())
        {
            using var correct = logits.argmax(1).eq(target).sum();
            TrainCorrect += correct.ToInt64();
            TrainSeen += target.shape[0];
        }
        return new Dictionary<string, Tensor> { ["loss_cls"] = nn.functional.cross_entropy(logits, target) };
    }
}
