using Man.Local;
using Man.Vision.Segmentation.Losses;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.LocalLearning;

/// <summary>
/// Semantic segmentation as a local-learning task: targets are label maps <c>[N, H, W]</c> int64 (255 = ignore);
/// early blocks learn from <see cref="SegmentationAuxiliaryHead"/>s, the last block from a <see cref="SegmentationMainHead"/>.
/// </summary>
public sealed class SegmentationLocalTask : ILocalTask<Tensor>
{
    /// <summary>Creates the task.</summary>
    /// <param name="mainHead">The real head of the last block.</param>
    /// <param name="numClasses">Number of classes the auxiliary heads predict.</param>
    /// <param name="auxiliaryHiddenChannels">Width of the auxiliary heads' 3×3 conv; null for <see cref="SegmentationAuxiliaryHead.DefaultHiddenChannels"/>.</param>
    /// <param name="ignoreIndex">Label of ignored pixels (255).</param>
    public SegmentationLocalTask(SegmentationMainHead mainHead, long numClasses, long? auxiliaryHiddenChannels = null,
        long ignoreIndex = PixelCrossEntropy.DefaultIgnoreIndex)
    {
        if (numClasses <= 0) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The number of classes must be positive.");
        if (auxiliaryHiddenChannels <= 0)
            throw new ArgumentOutOfRangeException(nameof(auxiliaryHiddenChannels), auxiliaryHiddenChannels, "The auxiliary heads' width must be positive.");
        MainHead = mainHead;
        NumClasses = numClasses;
        AuxiliaryHiddenChannels = auxiliaryHiddenChannels;
        IgnoreIndex = ignoreIndex;
    }

    /// <inheritdoc/>
    public MainHead<Tensor> MainHead { get; }

    /// <summary>Number of classes.</summary>
    public long NumClasses { get; }

    /// <summary>Width of the auxiliary heads' 3×3 conv (null: default).</summary>
    public long? AuxiliaryHiddenChannels { get; }

    /// <summary>Label of ignored pixels.</summary>
    public long IgnoreIndex { get; }

    /// <inheritdoc/>
    public AuxiliaryHead<Tensor> CreateAuxiliaryHead(AuxiliaryHeadContext context)
    {
        if (context.Shape.Length != 3)
            throw new ArgumentException(
                $"Block {context.Block}'s features have shape [{string.Join(", ", context.Shape)}]; a segmentation auxiliary head needs feature maps [C, H, W].",
                nameof(context));
        return new SegmentationAuxiliaryHead(context.Channels, NumClasses, AuxiliaryHiddenChannels, IgnoreIndex);
    }
}
