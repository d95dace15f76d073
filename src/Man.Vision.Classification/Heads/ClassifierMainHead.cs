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

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, Tensor> Losses(IReadOnlyDictionary<int, Tensor> outputs, Tensor last, Tensor target) =>
        new Dictionary<string, Tensor> { ["loss_cls"] = nn.functional.cross_entropy(Logits(last), target) };
}
