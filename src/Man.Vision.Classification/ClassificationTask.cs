using Man.Local;
using Man.Vision.Classification.Heads;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Classification;

/// <summary>Classification as a local-learning task: the model's classifier as main head, DGL heads as auxiliaries.</summary>
public sealed class ClassificationTask : ILocalTask<Tensor>
{
    private readonly long classes;

    /// <summary>Creates the task around the model's classifier (last features → logits).</summary>
    public ClassificationTask(nn.Module<Tensor, Tensor> classifier, long classes)
    {
        this.classes = classes;
        Head = new ClassifierMainHead(classifier);
    }

    /// <summary>The main head, typed.</summary>
    public ClassifierMainHead Head { get; }

    /// <inheritdoc/>
    public MainHead<Tensor> MainHead => Head;

    /// <inheritdoc/>
    public AuxiliaryHead<Tensor> CreateAuxiliaryHead(AuxiliaryHeadContext context) => new DglAuxiliaryHead(context.Channels, classes);
}
