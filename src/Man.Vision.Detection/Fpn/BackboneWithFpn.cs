using Man.Vision.Backbones.Features;
using Man.Vision.Detection.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Fpn;

/// <summary>
/// A backbone body followed by an FPN (torchvision's <c>BackboneWithFPN</c>): the body's selected maps are renamed
/// "0", "1", … (finest first) and the FPN outputs those plus "pool". The body is registered as <c>body</c> and the FPN
/// as <c>fpn</c>, so keys read <c>backbone.body.*</c> / <c>backbone.fpn.*</c> inside a Faster R-CNN as in torchvision.
/// </summary>
public sealed class BackboneWithFpn : DetectionBackbone
{
    private readonly nn.Module body;
    private readonly FeaturePyramidNetwork fpn;
    private readonly Func<Tensor, IReadOnlyDictionary<string, Tensor>> runBody;
    private readonly string[] outputNames;

    /// <summary>Creates the backbone.</summary>
    /// <param name="body">The feature extractor (its parameters are registered under <c>body</c>).</param>
    /// <param name="runBody">Runs <paramref name="body"/> on images and returns its named maps.</param>
    /// <param name="inputs">The maps of the body fed to the FPN, finest first, with their channels and strides.</param>
    /// <param name="outChannels">FPN channels (256).</param>
    /// <param name="lastLevelMaxPool">Append the "pool" level (torchvision's Faster R-CNN: yes).</param>
    public BackboneWithFpn(nn.Module body, Func<Tensor, IReadOnlyDictionary<string, Tensor>> runBody,
        IReadOnlyList<FeatureShape> inputs, long outChannels = 256, bool lastLevelMaxPool = true)
        : this(body, runBody, inputs, new FeaturePyramidNetwork(inputs.Select(s => s.Channels).ToArray(), outChannels, lastLevelMaxPool))
    {
    }

    /// <summary>Creates the backbone around an existing FPN (e.g. one trained as part of a local-learning main head).</summary>
    /// <param name="body">The feature extractor.</param>
    /// <param name="runBody">Runs <paramref name="body"/> on images and returns its named maps.</param>
    /// <param name="inputs">The body maps feeding the FPN, finest first.</param>
    /// <param name="fpn">The FPN; its input channels must match <paramref name="inputs"/>.</param>
    public BackboneWithFpn(nn.Module body, Func<Tensor, IReadOnlyDictionary<string, Tensor>> runBody,
        IReadOnlyList<FeatureShape> inputs, FeaturePyramidNetwork fpn)
        : base(nameof(BackboneWithFpn))
    {
        if (!fpn.InChannels.SequenceEqual(inputs.Select(s => s.Channels)))
            throw new ArgumentException($"The FPN takes channels [{string.Join(", ", fpn.InChannels)}] but the body maps have [{string.Join(", ", inputs.Select(s => s.Channels))}].", nameof(fpn));
        if (inputs.Count == 0) throw new ArgumentException("At least one body map must feed the FPN.", nameof(inputs));
        for (int i = 1; i < inputs.Count; i++)
            if (inputs[i].Stride <= inputs[i - 1].Stride)
                throw new ArgumentException($"Body maps must be finest first with growing strides; '{inputs[i].Name}' (stride {inputs[i].Stride}) follows '{inputs[i - 1].Name}' (stride {inputs[i - 1].Stride}).", nameof(inputs));
        this.body = body;
        this.runBody = runBody;
        Inputs = inputs.ToArray();
        this.fpn = fpn;
        outputNames = Enumerable.Range(0, inputs.Count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Concat(fpn.LastLevelMaxPool ? [FeaturePyramidNetwork.PoolName] : []).ToArray();
        RegisterComponents();
    }

    /// <summary>
    /// An FPN over the maps of a feature backbone (e.g. a ResNet's c2..c5), as torchvision's
    /// <c>resnet_fpn_backbone</c> with <c>returned_layers = [1, 2, 3, 4]</c>.
    /// </summary>
    /// <param name="backbone">The backbone module.</param>
    /// <param name="outChannels">FPN channels (256).</param>
    /// <param name="mapNames">The maps to use, finest first (default: all of <see cref="IFeatureBackbone.FeatureMaps"/>).</param>
    public static BackboneWithFpn FromFeatureBackbone<TBackbone>(TBackbone backbone, long outChannels = 256, IReadOnlyList<string>? mapNames = null)
        where TBackbone : nn.Module, IFeatureBackbone
    {
        var specs = backbone.FeatureMaps;
        var selected = mapNames is null ? specs.ToList() : mapNames.Select(n => specs.FirstOrDefault(s => s.Name == n)
            ?? throw new ArgumentException($"The backbone has no map '{n}'; it has {string.Join(", ", specs.Select(s => s.Name))}.", nameof(mapNames))).ToList();
        string[] names = selected.Select(s => s.Name).ToArray();
        return new BackboneWithFpn(backbone, x => backbone.ForwardFeatures(x, names),
            selected.Select(s => new FeatureShape(s.Name, s.Channels, s.Stride)).ToArray(), outChannels);
    }

    /// <summary>Parameters and persistent buffers by their full names (torchvision's keys), in TorchSharp's order.</summary>
    public override Dictionary<string, Tensor> state_dict(Dictionary<string, Tensor>? destination = null, string? prefix = null) =>
        FlatStateDict.Of(this, destination, prefix);

    /// <summary>The body maps feeding the FPN.</summary>
    public IReadOnlyList<FeatureShape> Inputs { get; }

    /// <summary>The FPN.</summary>
    public FeaturePyramidNetwork Fpn => fpn;

    /// <summary>The body.</summary>
    public nn.Module Body => body;

    /// <inheritdoc/>
    public override long OutChannels => fpn.OutChannels;

    /// <inheritdoc/>
    public override IReadOnlyList<string> OutputNames => outputNames;

    /// <summary>Strides of the outputs (the pool level has twice the last stride).</summary>
    public IReadOnlyList<long> OutputStrides =>
        Inputs.Select(s => s.Stride).Concat(fpn.LastLevelMaxPool ? [Inputs[^1].Stride * 2] : []).ToArray();

    /// <inheritdoc/>
    public override OrderedDictionary<string, Tensor> forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var maps = runBody(images);
        return fpn.call(Select(maps)).MoveToOuter();
    }

    /// <summary>Runs the FPN alone on body maps given by name (used when the body ran elsewhere, e.g. unit by unit).</summary>
    public OrderedDictionary<string, Tensor> ForwardFpn(IReadOnlyDictionary<string, Tensor> bodyMaps)
    {
        using var scope = NewDisposeScope();
        return fpn.call(Select(bodyMaps)).MoveToOuter();
    }

    private OrderedDictionary<string, Tensor> Select(IReadOnlyDictionary<string, Tensor> maps)
    {
        var selected = new OrderedDictionary<string, Tensor>();
        for (int i = 0; i < Inputs.Count; i++)
        {
            if (!maps.TryGetValue(Inputs[i].Name, out Tensor? map))
                throw new InvalidOperationException($"The backbone body did not return map '{Inputs[i].Name}'; it returned {string.Join(", ", maps.Keys)}.");
            selected.Add(outputNames[i], map);
        }
        return selected;
    }
}
