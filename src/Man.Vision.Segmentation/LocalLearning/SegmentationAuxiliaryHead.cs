using Man.Local;
using Man.Vision.Segmentation.Losses;
using Man.Vision.Segmentation.Models;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.LocalLearning;

/// <summary>
/// The FCN-style auxiliary head of an early block (DESIGN §2): conv3×3 (no bias) → BatchNorm → ReLU → conv1×1
/// classifier; its logits are upsampled bilinearly to the label size and scored by pixel cross-entropy (ignore 255).
/// </summary>
/// <remarks>Shape shorthand: features <c>[N, in, h, w]</c>, target <c>[N, H, W]</c> int64 → scalar loss.</remarks>
public sealed class SegmentationAuxiliaryHead : AuxiliaryHead<Tensor>
{
    [ComponentName(Name = "0")] private readonly Conv2d conv;
    [ComponentName(Name = "1")] private readonly BatchNorm2d bn;
    [ComponentName(Name = "2")] private readonly ReLU relu;
    [ComponentName(Name = "3")] private readonly Conv2d classifier;

    /// <summary>Creates the head.</summary>
    /// <param name="inChannels">Channels of the block's features.</param>
    /// <param name="numClasses">Number of classes.</param>
    /// <param name="hiddenChannels">Width of the 3×3 conv; null for <see cref="DefaultHiddenChannels"/>.</param>
    /// <param name="ignoreIndex">Label of ignored pixels.</param>
    public SegmentationAuxiliaryHead(long inChannels, long numClasses, long? hiddenChannels = null, long ignoreIndex = PixelCrossEntropy.DefaultIgnoreIndex)
        : base(nameof(SegmentationAuxiliaryHead))
    {
        if (inChannels <= 0) throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "Input channels must be positive.");
        if (numClasses <= 0) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The number of classes must be positive.");
        long hidden = hiddenChannels ?? DefaultHiddenChannels(inChannels);
        if (hidden <= 0) throw new ArgumentOutOfRangeException(nameof(hiddenChannels), hidden, "The hidden width must be positive.");
        InChannels = inChannels;
        NumClasses = numClasses;
        HiddenChannels = hidden;
        IgnoreIndex = ignoreIndex;
        conv = nn.Conv2d(inChannels, hidden, 3, padding: 1, bias: false);
        bn = nn.BatchNorm2d(hidden);
        relu = nn.ReLU();
        classifier = nn.Conv2d(hidden, numClasses, 1);
        RegisterComponents();
    }

    /// <summary>Channels of the features.</summary>
    public long InChannels { get; }

    /// <summary>Number of classes.</summary>
    public long NumClasses { get; }

    /// <summary>Width of the 3×3 conv.</summary>
    public long HiddenChannels { get; }

    /// <summary>Label of ignored pixels.</summary>
    public long IgnoreIndex { get; }

    /// <summary>The default width: FCNHead's <c>in/4</c>, at least 64 (early blocks are narrow).</summary>
    public static long DefaultHiddenChannels(long inChannels) => Math.Max(inChannels / 4, 64);

    /// <summary>Logits <c>[N, classes, h, w]</c> at the features' resolution.</summary>
    public Tensor Logits(Tensor features)
    {
        using var scope = NewDisposeScope();
        return classifier.forward(relu.forward(bn.forward(conv.forward(features)))).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor Loss(Tensor features, Tensor target)
    {
        if (target.dim() != 3) throw new ArgumentException($"Targets must be label maps [N, H, W]; got [{string.Join(", ", target.shape)}].", nameof(target));
        using var scope = NewDisposeScope();
        Tensor logits = SegmentationModel.ResizeLogits(Logits(features), [target.shape[1], target.shape[2]]);
        return PixelCrossEntropy.Loss(logits, target, IgnoreIndex).MoveToOuterDisposeScope();
    }
}
