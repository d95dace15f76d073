using Man.Local;
using Man.Vision.Segmentation.Heads;
using Man.Vision.Segmentation.Losses;
using Man.Vision.Segmentation.Models;
using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.LocalLearning;

/// <summary>
/// The segmenter's real head for the local-learning engine: the DeepLabV3 or FCN classifier on the last unit's output
/// and, optionally, torchvision's auxiliary <see cref="FcnHead"/> on the output of another unit (layer3's end), asked
/// for through <see cref="ExtraUnitOutputs"/>. Logits are upsampled to the label size; losses as
/// <see cref="SegmentationCriterion"/> ("out", and "aux" weighted by 0.5).
/// </summary>
/// <remarks>
/// Keys: <c>classifier.*</c> and <c>aux_classifier.*</c>, as in torchvision's models. When the aux unit belongs to an
/// earlier block, the engine passes its output detached: the aux classifier learns, the earlier units do not.
/// </remarks>
public sealed class SegmentationMainHead : MainHead<Tensor>
{
    private readonly nn.Module<Tensor, Tensor> classifier;
    [ComponentName(Name = "aux_classifier")] private readonly FcnHead? auxClassifier;
    private readonly int[] extra;

    /// <summary>Creates the head from built classifiers.</summary>
    /// <param name="classifier">Main head: last unit output → logits <c>[N, classes, h, w]</c>.</param>
    /// <param name="auxClassifier">Optional auxiliary classifier (needs <paramref name="auxUnitIndex"/>).</param>
    /// <param name="auxUnitIndex">Index of the unit whose output feeds <paramref name="auxClassifier"/>.</param>
    /// <param name="auxWeight">Weight of the auxiliary loss (0.5).</param>
    /// <param name="ignoreIndex">Label of ignored pixels (255).</param>
    public SegmentationMainHead(nn.Module<Tensor, Tensor> classifier, FcnHead? auxClassifier = null, int? auxUnitIndex = null,
        double auxWeight = 0.5, long ignoreIndex = PixelCrossEntropy.DefaultIgnoreIndex)
        : base(nameof(SegmentationMainHead))
    {
        if ((auxClassifier is null) != (auxUnitIndex is null))
            throw new ArgumentException("An auxiliary classifier needs the index of the unit it reads (auxUnitIndex), and only then.", nameof(auxUnitIndex));
        if (auxUnitIndex < 0) throw new ArgumentOutOfRangeException(nameof(auxUnitIndex), auxUnitIndex, "The unit index must be ≥ 0.");
        this.classifier = classifier;
        this.auxClassifier = auxClassifier;
        extra = auxUnitIndex is int i ? [i] : [];
        AuxUnitIndex = auxUnitIndex;
        Criterion = new SegmentationCriterion(auxWeight, ignoreIndex);
        RegisterComponents();
    }

    /// <summary>
    /// Builds the FCN or DeepLabV3 head (ASPP rates of <paramref name="outputStride"/>) for a last unit of
    /// <paramref name="lastChannels"/> channels, plus an <see cref="FcnHead"/> on unit <paramref name="auxUnitIndex"/>
    /// (of <paramref name="auxChannels"/> channels) when both are given.
    /// </summary>
    public static SegmentationMainHead Create(SegmentationHeadKind head, long numClasses, long lastChannels, int outputStride,
        long? auxChannels = null, int? auxUnitIndex = null, double auxWeight = 0.5, long ignoreIndex = PixelCrossEntropy.DefaultIgnoreIndex)
    {
        if ((auxChannels is null) != (auxUnitIndex is null))
            throw new ArgumentException("Give both the channels and the unit index of the auxiliary classifier's input, or neither.", nameof(auxUnitIndex));
        nn.Module<Tensor, Tensor> classifier = head switch
        {
            SegmentationHeadKind.Fcn => new FcnHead(lastChannels, numClasses),
            SegmentationHeadKind.DeepLabV3 => new DeepLabHead(lastChannels, numClasses, DeepLabHead.RatesForOutputStride(outputStride)),
            _ => throw new ArgumentOutOfRangeException(nameof(head), head, "Unknown head."),
        };
        FcnHead? aux = auxChannels is long c ? new FcnHead(c, numClasses) : null;
        return new SegmentationMainHead(classifier, aux, auxUnitIndex, auxWeight, ignoreIndex);
    }

    /// <summary>The unit feeding the auxiliary classifier, or null.</summary>
    public int? AuxUnitIndex { get; }

    /// <summary>The loss of the head.</summary>
    public SegmentationCriterion Criterion { get; }

    /// <summary>The main classifier.</summary>
    public nn.Module<Tensor, Tensor> Classifier => classifier;

    /// <summary>The auxiliary classifier, or null.</summary>
    public FcnHead? AuxClassifier => auxClassifier;

    /// <inheritdoc/>
    public override IReadOnlyList<int> ExtraUnitOutputs => extra;

    /// <summary>
    /// Logits at <paramref name="height"/>×<paramref name="width"/> (the input or label size) from the unit outputs.
    /// </summary>
    /// <param name="outputs">Unit index → output; must hold <see cref="AuxUnitIndex"/> when there is an aux classifier.</param>
    /// <param name="last">Output of the last unit.</param>
    /// <param name="height">Output height.</param>
    /// <param name="width">Output width.</param>
    public SegmentationOutput Forward(IReadOnlyDictionary<int, Tensor> outputs, Tensor last, long height, long width)
    {
        using var scope = NewDisposeScope();
        long[] size = [height, width];
        Tensor output = SegmentationModel.ResizeLogits(classifier.forward(last), size);
        Tensor? aux = null;
        if (auxClassifier is not null)
        {
            int index = AuxUnitIndex!.Value;
            if (!outputs.TryGetValue(index, out Tensor? features))
                throw new ArgumentException($"The auxiliary classifier reads unit {index}, whose output is missing.", nameof(outputs));
            aux = SegmentationModel.ResizeLogits(auxClassifier.forward(features), size).MoveToOuterDisposeScope();
        }
        return new SegmentationOutput(output.MoveToOuterDisposeScope(), aux);
    }

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, Tensor> Losses(IReadOnlyDictionary<int, Tensor> outputs, Tensor last, Tensor target)
    {
        if (target.dim() != 3) throw new ArgumentException($"Targets must be label maps [N, H, W]; got [{string.Join(", ", target.shape)}].", nameof(target));
        using var scope = NewDisposeScope();
        SegmentationOutput logits = Forward(outputs, last, target.shape[1], target.shape[2]);
        var losses = Criterion.Losses(logits, target);
        foreach (Tensor t in losses.Values) t.MoveToOuterDisposeScope();
        return losses;
    }
}
