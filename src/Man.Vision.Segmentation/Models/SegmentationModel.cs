using Man.Vision.Segmentation.Heads;
using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Models;

/// <summary>
/// torchvision's <c>_SimpleSegmentationModel</c> (FCN / DeepLabV3): backbone → main head on the last stage
/// ("classifier") and optionally an <see cref="FcnHead"/> on the previous stage ("aux_classifier"), both upsampled
/// bilinearly (align_corners false) to the input size. It computes no loss (see <see cref="Losses.SegmentationCriterion"/>).
/// </summary>
/// <remarks>
/// Shape shorthand: images <c>[N, 3, H, W]</c> → <see cref="SegmentationOutput"/> with logits <c>[N, classes, H, W]</c>
/// for any H, W. State-dict keys: <c>backbone.*</c>, <c>classifier.*</c>, <c>aux_classifier.*</c> as in torchvision.
/// </remarks>
public sealed class SegmentationModel : nn.Module<Tensor, SegmentationOutput>
{
    private readonly SegmentationBackbone backbone;
    private readonly nn.Module<Tensor, Tensor> classifier;
    [ComponentName(Name = "aux_classifier")] private readonly FcnHead? auxClassifier;

    /// <summary>Assembles a model from built parts.</summary>
    /// <param name="backbone">The feature extractor.</param>
    /// <param name="classifier">Main head: features "out" → logits <c>[N, classes, h, w]</c>.</param>
    /// <param name="auxClassifier">Optional head on features "aux"; the backbone must then produce them.</param>
    /// <param name="numClasses">Number of classes the heads predict.</param>
    public SegmentationModel(SegmentationBackbone backbone, nn.Module<Tensor, Tensor> classifier, FcnHead? auxClassifier, long numClasses)
        : base(nameof(SegmentationModel))
    {
        if (numClasses <= 0) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The number of classes must be positive.");
        if (auxClassifier is not null && auxClassifier.NumClasses != numClasses)
            throw new ArgumentException($"The auxiliary head predicts {auxClassifier.NumClasses} classes, the model {numClasses}.", nameof(auxClassifier));
        this.backbone = backbone;
        this.classifier = classifier;
        this.auxClassifier = auxClassifier;
        NumClasses = numClasses;
        RegisterComponents();
    }

    /// <summary>
    /// Builds torchvision's FCN or DeepLabV3 head (and the layer3 <see cref="FcnHead"/> when <paramref name="auxLoss"/>)
    /// on <paramref name="backbone"/>. DeepLabV3 uses the ASPP rates of the backbone's output stride
    /// (<see cref="DeepLabHead.RatesForOutputStride"/>).
    /// </summary>
    public static SegmentationModel Create(SegmentationBackbone backbone, SegmentationHeadKind head, long numClasses, bool auxLoss)
    {
        nn.Module<Tensor, Tensor> classifier = head switch
        {
            SegmentationHeadKind.Fcn => new FcnHead(backbone.OutChannels, numClasses),
            SegmentationHeadKind.DeepLabV3 => new DeepLabHead(backbone.OutChannels, numClasses, DeepLabHead.RatesForOutputStride(backbone.OutputStride)),
            _ => throw new ArgumentOutOfRangeException(nameof(head), head, "Unknown head."),
        };
        FcnHead? aux = auxLoss ? new FcnHead(backbone.AuxChannels, numClasses) : null;
        return new SegmentationModel(backbone, classifier, aux, numClasses);
    }

    /// <summary>Number of classes.</summary>
    public long NumClasses { get; }

    /// <summary>True when the model has an auxiliary classifier.</summary>
    public bool HasAuxClassifier => auxClassifier is not null;

    /// <summary>The backbone.</summary>
    public SegmentationBackbone Backbone => backbone;

    /// <summary>The main head.</summary>
    public nn.Module<Tensor, Tensor> Classifier => classifier;

    /// <summary>The auxiliary head, or null.</summary>
    public FcnHead? AuxClassifier => auxClassifier;

    /// <summary>Logits at the input size: images <c>[N, C_in, H, W]</c> → <see cref="SegmentationOutput"/>.</summary>
    /// <exception cref="InvalidOperationException">The model has an auxiliary head but the backbone gave no "aux" features.</exception>
    public override SegmentationOutput forward(Tensor images)
    {
        if (images.dim() != 4) throw new ArgumentException($"Images must be [N, C, H, W]; got shape [{string.Join(", ", images.shape)}].", nameof(images));
        using var scope = NewDisposeScope();
        long[] size = [images.shape[2], images.shape[3]];
        SegmentationFeatures features = backbone.forward(images);
        Tensor output = ResizeLogits(classifier.forward(features.Out), size);
        Tensor? aux = null;
        if (auxClassifier is not null)
        {
            Tensor auxFeatures = features.Aux ?? throw new InvalidOperationException(
                "The model has an auxiliary classifier but its backbone returned no \"aux\" (layer3) features.");
            aux = ResizeLogits(auxClassifier.forward(auxFeatures), size).MoveToOuterDisposeScope();
        }
        return new SegmentationOutput(output.MoveToOuterDisposeScope(), aux);
    }

    /// <summary>Bilinear resize (align_corners false) of logits <c>[N, C, h, w]</c> to <c>[N, C, size[0], size[1]]</c>.</summary>
    public static Tensor ResizeLogits(Tensor logits, long[] size)
    {
        if (logits.shape[2] == size[0] && logits.shape[3] == size[1]) return logits.alias();
        return nn.functional.interpolate(logits, size: size, mode: InterpolationMode.Bilinear, align_corners: false);
    }
}
