using Man.Local;
using Man.Vision.Backbones.Features;
using Man.Vision.Detection.Models;

namespace Man.Vision.Detection.LocalLearning;

/// <summary>
/// Faster R-CNN detection as a local-learning task: the main head is <see cref="FasterRcnnMainHead"/> on the stage
/// ends, early blocks get a <see cref="DenseDetectionAuxHead"/>.
/// </summary>
public sealed class DetectionLocalTask : ILocalTask<DetectionTargets>
{
    /// <summary>Creates the task.</summary>
    /// <param name="taps">The stage-end unit outputs feeding the FPN, finest first.</param>
    /// <param name="options">Detector options.</param>
    /// <param name="denseOptions">Auxiliary head options (defaults when null).</param>
    /// <param name="fpnChannels">FPN channels (256).</param>
    public DetectionLocalTask(IReadOnlyList<FeatureTap> taps, FasterRcnnOptions options, DenseHeadOptions? denseOptions = null, long fpnChannels = 256)
    {
        Options = options;
        DenseOptions = denseOptions ?? new DenseHeadOptions();
        Head = new FasterRcnnMainHead(taps, options, fpnChannels);
    }

    /// <summary>A task whose main head taps every map of <paramref name="backbone"/> (a ResNet's c2..c5 stage ends).</summary>
    public static DetectionLocalTask For(IFeatureBackbone backbone, FasterRcnnOptions options, DenseHeadOptions? denseOptions = null, long fpnChannels = 256) =>
        new(backbone.FeatureMaps.Select(m => new FeatureTap(m.UnitIndex, m.Channels, m.Stride)).ToArray(), options, denseOptions, fpnChannels);

    /// <summary>Detector options.</summary>
    public FasterRcnnOptions Options { get; }

    /// <summary>Auxiliary head options.</summary>
    public DenseHeadOptions DenseOptions { get; }

    /// <summary>The main head, typed.</summary>
    public FasterRcnnMainHead Head { get; }

    /// <inheritdoc/>
    public MainHead<DetectionTargets> MainHead => Head;

    /// <inheritdoc/>
    public AuxiliaryHead<DetectionTargets> CreateAuxiliaryHead(AuxiliaryHeadContext context)
    {
        if (context.Shape.Length != 3)
            throw new ArgumentException($"A dense detection head needs [C, H, W] block features, got [{string.Join(", ", context.Shape)}] for block {context.Block}.", nameof(context));
        return new DenseDetectionAuxHead(context.Channels, Options.NumClasses, DenseOptions);
    }
}
