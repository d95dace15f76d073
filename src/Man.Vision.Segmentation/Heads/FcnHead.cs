using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Heads;

/// <summary>
/// torchvision's <c>FCNHead</c>: conv3×3 (in → in/4, no bias) → BatchNorm → ReLU → Dropout → conv1×1 (→ classes).
/// Used as the FCN classifier on layer4 and as the auxiliary classifier on layer3.
/// </summary>
/// <remarks>
/// Shape shorthand: <c>[N, in, h, w] → [N, classes, h, w]</c> (no resampling; the model upsamples).
/// State-dict keys equal torchvision's: <c>0.weight</c>, <c>1.{weight,bias,running_mean,running_var,num_batches_tracked}</c>,
/// <c>4.{weight,bias}</c>.
/// </remarks>
public sealed class FcnHead : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "0")] private readonly Conv2d conv;
    [ComponentName(Name = "1")] private readonly BatchNorm2d bn;
    [ComponentName(Name = "2")] private readonly ReLU relu;
    [ComponentName(Name = "3")] private readonly Dropout dropout;
    [ComponentName(Name = "4")] private readonly Conv2d classifier;

    /// <summary>Creates the head.</summary>
    /// <param name="inChannels">Channels of the input features (e.g. 2048 for ResNet-50 layer4, 1024 for layer3).</param>
    /// <param name="numClasses">Number of output classes.</param>
    /// <param name="dropout">Dropout probability before the classifier (torchvision: 0.1).</param>
    /// <param name="hiddenChannels">Width of the 3×3 conv; null for torchvision's <c>inChannels / 4</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or the dropout is outside [0, 1).</exception>
    public FcnHead(long inChannels, long numClasses, double dropout = 0.1, long? hiddenChannels = null) : base(nameof(FcnHead))
    {
        if (inChannels <= 0) throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "Input channels must be positive.");
        if (numClasses <= 0) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The number of classes must be positive.");
        if (dropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "Dropout must be in [0, 1).");
        long hidden = hiddenChannels ?? inChannels / 4;
        if (hidden <= 0)
            throw new ArgumentOutOfRangeException(nameof(hiddenChannels), hidden,
                $"The hidden width must be positive (inChannels / 4 = {inChannels / 4} for {inChannels} input channels; pass hiddenChannels).");
        InChannels = inChannels;
        NumClasses = numClasses;
        HiddenChannels = hidden;
        conv = nn.Conv2d(inChannels, hidden, 3, padding: 1, bias: false);
        bn = nn.BatchNorm2d(hidden);
        relu = nn.ReLU();
        this.dropout = nn.Dropout(dropout);
        classifier = nn.Conv2d(hidden, numClasses, 1);
        RegisterComponents();
    }

    /// <summary>Channels of the input features.</summary>
    public long InChannels { get; }

    /// <summary>Number of output classes.</summary>
    public long NumClasses { get; }

    /// <summary>Width of the 3×3 conv.</summary>
    public long HiddenChannels { get; }

    /// <summary>Class logits <c>[N, classes, h, w]</c> of features <c>[N, in, h, w]</c>.</summary>
    public override Tensor forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        Tensor x = relu.forward(bn.forward(conv.forward(features)));
        return classifier.forward(dropout.forward(x)).MoveToOuterDisposeScope();
    }
}
