using Man.Vision.Backbones.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Classification;

/// <summary>
/// Global average pooling and a linear classifier, named like torchvision's ResNet tail (<c>avgpool</c>, <c>fc</c>).
/// </summary>
/// <remarks>Shape shorthand: <c>[N, C, H, W]</c> → logits <c>[N, NumClasses]</c>.</remarks>
public sealed class ClassificationHead : nn.Module<Tensor, Tensor>
{
    private readonly AdaptiveAvgPool2d avgpool;
    private Linear fc;

    /// <summary>A new head from <paramref name="inFeatures"/> channels to <paramref name="numClasses"/> logits.</summary>
    public ClassificationHead(long inFeatures, long numClasses)
        : this(nn.AdaptiveAvgPool2d(1), CreateLinear(inFeatures, numClasses))
    {
    }

    /// <summary>A head over existing layers (shared with a model, not copied).</summary>
    internal ClassificationHead(AdaptiveAvgPool2d pool, Linear linear) : base(nameof(ClassificationHead))
    {
        avgpool = pool;
        fc = linear;
        RegisterComponents();
    }

    /// <summary>The classifier.</summary>
    public Linear Fc => fc;

    /// <summary>Input channels.</summary>
    public long InFeatures => fc.weight!.shape[1];

    /// <summary>Number of classes.</summary>
    public long NumClasses => fc.weight!.shape[0];

    internal static Linear CreateLinear(long inFeatures, long numClasses)
    {
        if (inFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inFeatures), inFeatures, "The number of input features must be positive.");
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The number of classes must be positive.");
        return nn.Linear(inFeatures, numClasses);
    }

    /// <summary>Uses <paramref name="linear"/> as the classifier (registered as <c>fc</c>).</summary>
    internal void SetClassifier(Linear linear)
    {
        fc = linear;
        ModuleSurgery.ReplaceChild(this, "fc", linear);
    }

    /// <summary>Replaces the classifier by a freshly initialised one with <paramref name="numClasses"/> outputs.</summary>
    public void ReplaceClassifier(long numClasses) => SetClassifier(CreateLinear(InFeatures, numClasses).to(fc.weight!.device));

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc.forward(avgpool.forward(x).flatten(1)).MoveToOuterDisposeScope();
    }
}
