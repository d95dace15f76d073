using Man.Local;
using Man.Vision.Backbones.Features;
using Man.Vision.Detection.Models;

namespace Man.Vision.Detection.LocalLearning;

/// <summary>
/// Faster R-CNN detection as a local-learning task: the main head is <see cref="FasterRcnnMainHead"/> on the stage
/// ends, early blocks get the auxiliary head of <see cref="AuxOptions"/> (a <see cref="DenseDetectionAuxHead"/> by
/// default, or a <see cref="RcnnDetectionAuxHead"/>).
/// </summary>
public sealed class DetectionLocalTask : ILocalTask<DetectionTargets>
{
    /// <summary>Creates the task.</summary>
    /// <param name="taps">The stage-end unit outputs feeding the FPN, finest first.</param>
    /// <param name="options">Detector options.</param>
    /// <param name="auxOptions">Auxiliary head options (a default <see cref="DenseHeadOptions"/> when null).</param>
    /// <param name="fpnChannels">FPN channels (256).</param>
    public DetectionLocalTask(IReadOnlyList<FeatureTap> taps, FasterRcnnOptions options, AuxHeadOptions? auxOptions = null, long fpnChannels = 256)
    {
        Options = options;
        AuxOptions = auxOptions ?? new DenseHeadOptions();
        Head = new FasterRcnnMainHead(taps, options, fpnChannels);
    }

    /// <summary>
    /// A task whose main head taps the maps of <paramref name="backbone"/>: every one (a ResNet's c2..c5 stage ends) or
    /// the stages in <paramref name="returnedLayers"/> (1-based as torchvision's <c>returned_layers</c>: [2, 3, 4] is c3..c5).
    /// </summary>
    /// <exception cref="ArgumentException">A returned layer is not a stage of the backbone.</exception>
    public static DetectionLocalTask For(IFeatureBackbone backbone, FasterRcnnOptions options, AuxHeadOptions? auxOptions = null, long fpnChannels = 256,
        IReadOnlyList<int>? returnedLayers = null)
    {
        var maps = backbone.FeatureMaps;
        var chosen = returnedLayers is null ? maps.ToArray() : returnedLayers.Select(l => l >= 1 && l <= maps.Count ? maps[l - 1]
            : throw new ArgumentException($"Returned layer {l} is not a stage of the backbone (it has {maps.Count}).", nameof(returnedLayers))).ToArray();
        return new(chosen.Select(m => new FeatureTap(m.UnitIndex, m.Channels, m.Stride)).ToArray(), options, auxOptions, fpnChannels);
    }

    /// <summary>Detector options.</summary>
    public FasterRcnnOptions Options { get; }

    /// <summary>Auxiliary head options.</summary>
    public AuxHeadOptions AuxOptions { get; }

    /// <summary>The main head, typed.</summary>
    public FasterRcnnMainHead Head { get; }

    /// <inheritdoc/>
    public MainHead<DetectionTargets> MainHead => Head;

    /// <inheritdoc/>
    public AuxiliaryHead<DetectionTargets> CreateAuxiliaryHead(AuxiliaryHeadContext context)
    {
        if (context.Shape.Length != 3)
            throw new ArgumentException($"An auxiliary detection head needs [C, H, W] block features, got [{string.Join(", ", context.Shape)}] for block {context.Block}.", nameof(context));
        return AuxOptions.Create(context.Channels, Options.NumClasses);
    }
}
