using Man.Local;
using Man.Vision.Backbones.Classification;
using Man.Vision.Backbones.Features;
using Man.Vision.Backbones.Internal;
using Man.Vision.Backbones.Norm;
using Man.Vision.Backbones.Units;
using Man.Vision.Backbones.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.ResNets;

/// <summary>
/// A ResNet with torchvision's module and state-dict names (<c>conv1</c>, <c>bn1</c>, <c>layer1.0.conv1</c>,
/// <c>layer1.0.downsample.0</c>, …, <c>fc</c>): ResNet-18/34/50/101/152, ResNeXt and the CIFAR ResNets of He et al.
/// </summary>
/// <remarks>
/// <para>
/// As a unit sequence for local learning the model is <c>[stem, layer1.0, layer1.1, …, layerN.last]</c>; the stem
/// and the blocks are the very modules registered in the model. The stem (<see cref="ResNetStem"/>) references the
/// model's <c>conv1</c>/<c>bn1</c> without being registered itself, so the state dict keeps torchvision's keys.
/// </para>
/// <para>
/// As a feature backbone it gives "c2".."c5", the outputs of layer1..layer4. With <see cref="ResNetOptions.NumClasses"/>
/// &gt; 0 it is also the classifier (global average pool + <c>fc</c>), whose tail is <see cref="Head"/>.
/// </para>
/// Shape shorthand: images <c>[N, 3, H, W]</c> → logits <c>[N, NumClasses]</c>, or the last stage's features
/// <c>[N, C, H/32, W/32]</c> without a classifier.
/// </remarks>
public sealed class ResNet : nn.Module<Tensor, Tensor>, IUnitSequence, IUnitDescriptions, IFeatureBackbone, INormHost
{
    // Declared in torchvision's registration order: the state dict lists keys in this order.
    private readonly Conv2d conv1;
    private nn.Module<Tensor, Tensor> bn1;
    private readonly ReLU relu;
    private readonly MaxPool2d? maxpool;
    private readonly Sequential? layer1;
    private readonly Sequential? layer2;
    private readonly Sequential? layer3;
    private readonly Sequential? layer4;
    private AdaptiveAvgPool2d? avgpool;
    private Linear? fc;

    // Views over registered modules; a plain object (not a Module), so RegisterComponents ignores it.
    private readonly Views views;

    private sealed class Views
    {
        public required ResNetStem Stem { get; init; }
        public required List<ResidualBlock> Blocks { get; init; }
        public required List<string> BlockNames { get; init; }
        public required int[] StageEnds { get; init; }
        public required long[] StageChannels { get; init; }
        public required long[] StageStrides { get; init; }
        public ClassificationHead? Head { get; set; }
    }

    /// <summary>Builds the network with fresh (torchvision-style) initialisation.</summary>
    /// <exception cref="ArgumentException">The options are inconsistent (the message says which).</exception>
    public ResNet(ResNetOptions options) : base("ResNet")
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;

        conv1 = ResNetStem.CreateConv(options.Stem, options.InChannels, options.StageWidths[0]);
        bn1 = NormLayerFactory.Create(options.Norm, options.StageWidths[0]);
        relu = nn.ReLU(inplace: true);
        maxpool = options.Stem == StemKind.ImageNet ? nn.MaxPool2d(kernel_size: 3, stride: 2, padding: 1) : null;

        var blocks = new List<ResidualBlock>();
        var blockNames = new List<string>();
        var stages = new Sequential[options.Layers.Length];
        var stageEnds = new int[options.Layers.Length];
        var stageChannels = new long[options.Layers.Length];
        var stageStrides = new long[options.Layers.Length];
        long inplanes = options.StageWidths[0];
        long dilation = 1;
        long stride = options.Stem == StemKind.ImageNet ? 4 : 1;
        for (int s = 0; s < options.Layers.Length; s++)
        {
            long planes = options.StageWidths[s];
            long blockStride = s == 0 ? 1 : 2;
            long previousDilation = dilation;
            if (s > 0 && options.ReplaceStrideWithDilation is { } dil && dil[s - 1])
            {
                dilation *= blockStride;
                blockStride = 1;
            }
            long outChannels = planes * options.Expansion;
            var stageBlocks = new List<ResidualBlock>();
            for (int b = 0; b < options.Layers[s]; b++)
            {
                var spec = new BlockSpec(options.Block, inplanes, planes,
                    Stride: b == 0 ? blockStride : 1,
                    Groups: options.Groups, BaseWidth: options.WidthPerGroup,
                    Dilation: b == 0 ? previousDilation : dilation,
                    Downsample: b == 0 && (blockStride != 1 || inplanes != outChannels),
                    Norm: options.Norm);
                var block = ResidualBlock.Create(spec);
                stageBlocks.Add(block);
                blocks.Add(block);
                blockNames.Add($"layer{s + 1}.{b}");
                inplanes = outChannels;
            }
            stride *= blockStride;
            stages[s] = nn.Sequential(stageBlocks.Cast<nn.Module<Tensor, Tensor>>().ToArray());
            stageEnds[s] = blocks.Count; // unit index: the stem is unit 0
            stageChannels[s] = outChannels;
            stageStrides[s] = stride;
        }
        layer1 = stages.ElementAtOrDefault(0);
        layer2 = stages.ElementAtOrDefault(1);
        layer3 = stages.ElementAtOrDefault(2);
        layer4 = stages.ElementAtOrDefault(3);

        if (options.NumClasses > 0)
        {
            avgpool = nn.AdaptiveAvgPool2d(1);
            fc = ClassificationHead.CreateLinear(inplanes, options.NumClasses);
        }

        views = new Views
        {
            Stem = new ResNetStem(options.Stem, conv1, bn1),
            Blocks = blocks,
            BlockNames = blockNames,
            StageEnds = stageEnds,
            StageChannels = stageChannels,
            StageStrides = stageStrides,
            Head = fc is null ? null : new ClassificationHead(avgpool!, fc),
        };

        views.Stem.SetOwner(norm => ReplaceNorm("bn1", norm));
        views.Head?.SetOwner(ReplaceClassifier);

        if (options.ZeroInitResidual)
        {
            using var _ = no_grad();
            foreach (var block in blocks)
            {
                var last = block.NormLayers.Last().Norm;
                switch (last)
                {
                    case BatchNorm2d bn: bn.weight!.zero_(); break;
                    case FrozenBatchNorm2d frozen: frozen.Weight.zero_(); break;
                }
            }
        }
        RegisterComponents();
    }

    /// <summary>The architecture.</summary>
    public ResNetOptions Options { get; }

    /// <summary>The stem unit (references <c>conv1</c>, <c>bn1</c>; not registered separately).</summary>
    public ResNetStem Stem => views.Stem;

    /// <summary>All residual blocks in order.</summary>
    public IReadOnlyList<ResidualBlock> Blocks => views.Blocks;

    /// <summary>The classifier tail (shares <c>avgpool</c> and <c>fc</c> with the model), or null without a classifier.</summary>
    public ClassificationHead? Head => views.Head;

    /// <summary>Number of classes of <c>fc</c> (0 without a classifier).</summary>
    public long NumClasses => fc?.weight!.shape[0] ?? 0;

    /// <summary>Channels of the last stage's output.</summary>
    public long OutChannels => views.StageChannels[^1];

    /// <summary>The stage (layer1..layerN) as registered.</summary>
    public Sequential Stage(int index) => index switch
    {
        0 => layer1!,
        1 when layer2 is not null => layer2,
        2 when layer3 is not null => layer3,
        3 when layer4 is not null => layer4,
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, $"The network has {Options.Layers.Length} stages (0..{Options.Layers.Length - 1})."),
    };

    /// <summary>Number of stages.</summary>
    public int StageCount => Options.Layers.Length;

    /// <summary>Unit index at which stage <paramref name="stage"/> (0-based, layer1 = 0) ends.</summary>
    public int StageEndUnit(int stage) => views.StageEnds[stage];

    // ---------------------------------------------------------------- IUnitSequence

    /// <inheritdoc/>
    public int Count => 1 + views.Blocks.Count;

    /// <inheritdoc/>
    public nn.Module<Tensor, Tensor> this[int index]
    {
        get
        {
            CheckUnit(index);
            return index == 0 ? views.Stem : views.Blocks[index - 1];
        }
    }

    /// <inheritdoc/>
    public string UnitName(int index)
    {
        CheckUnit(index);
        return index == 0 ? "stem" : views.BlockNames[index - 1];
    }

    /// <inheritdoc/>
    public nn.Module<Tensor, Tensor> CreateLike(int index)
    {
        CheckUnit(index);
        nn.Module<Tensor, Tensor> fresh = index == 0 ? views.Stem.CreateLike() : views.Blocks[index - 1].CreateLike();
        return fresh.to(conv1.weight!.device);
    }

    /// <summary>
    /// Output shape, cumulative stride, estimated activation size and parameter count of every unit for one sample
    /// of <paramref name="inputHeight"/>×<paramref name="inputWidth"/> (a cost model for balanced splits).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The input size is not positive.</exception>
    public UnitInfo[] DescribeUnits(long inputHeight, long inputWidth)
    {
        if (inputHeight < 1 || inputWidth < 1)
            throw new ArgumentOutOfRangeException(nameof(inputHeight), $"The input size must be positive, got {inputHeight}x{inputWidth}.");
        var result = new UnitInfo[Count];
        var (h, w) = views.Stem.OutputSize(inputHeight, inputWidth);
        long stride = views.Stem.Stride;
        result[0] = new UnitInfo(0, "stem", views.Stem.OutChannels, stride, h, w,
            views.Stem.ActivationElements(inputHeight, inputWidth), ParameterCount(views.Stem));
        for (int i = 0; i < views.Blocks.Count; i++)
        {
            var block = views.Blocks[i];
            long act = block.ActivationElements(h, w);
            (h, w) = block.OutputSize(h, w);
            stride *= block.Spec.Stride;
            result[i + 1] = new UnitInfo(i + 1, views.BlockNames[i], block.Spec.OutChannels, stride, h, w, act, ParameterCount(block));
        }
        return result;
    }

    private static long ParameterCount(nn.Module module) => module.parameters().Sum(p => p.numel());

    private void CheckUnit(int index)
    {
        if (index < 0 || index >= Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The network has {Count} units (0..{Count - 1}).");
    }

    // ---------------------------------------------------------------- IFeatureBackbone

    /// <inheritdoc/>
    public IReadOnlyList<FeatureMapSpec> FeatureMaps => Enumerable.Range(0, StageCount)
        .Select(s => new FeatureMapSpec($"c{s + 2}", views.StageChannels[s], views.StageStrides[s], views.StageEnds[s]))
        .ToList();

    /// <inheritdoc/>
    public int SizeDivisibility => (int)views.StageStrides.Max();

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, Tensor> ForwardFeatures(Tensor images, IReadOnlyCollection<string>? names = null)
    {
        var maps = FeatureMaps;
        if (names is not null)
        {
            var unknown = names.Where(n => maps.All(m => m.Name != n)).ToList();
            if (unknown.Count > 0)
                throw new ArgumentException(
                    $"Unknown feature map(s) {string.Join(", ", unknown)}; this backbone has {string.Join(", ", maps.Select(m => m.Name))}.", nameof(names));
        }
        var wanted = maps.Where(m => names is null || names.Contains(m.Name)).ToList();
        int last = wanted.Count == 0 ? -1 : wanted.Max(m => m.UnitIndex);
        var result = new Dictionary<string, Tensor>();
        using var scope = NewDisposeScope();
        var x = images;
        for (int i = 0; i <= last; i++)
        {
            x = this[i].forward(x);
            foreach (var m in wanted.Where(m => m.UnitIndex == i))
                result[m.Name] = x;
        }
        foreach (var t in result.Values.Distinct()) t.MoveToOuterDisposeScope();
        return result;
    }

    // ---------------------------------------------------------------- classifier

    /// <summary>
    /// Replaces <c>fc</c> by a freshly initialised classifier with <paramref name="numClasses"/> outputs (adds
    /// <c>avgpool</c> and <c>fc</c> to a model built without a classifier). The backbone is unchanged.
    /// </summary>
    public void ReplaceClassifier(int numClasses)
    {
        var linear = ClassificationHead.CreateLinear(OutChannels, numClasses).to(conv1.weight!.device);
        if (fc is null)
        {
            avgpool = nn.AdaptiveAvgPool2d(1);
            fc = linear;
            register_module("avgpool", avgpool);
            register_module("fc", fc);
            views.Head = new ClassificationHead(avgpool, fc);
            views.Head.SetOwner(ReplaceClassifier);
        }
        else
        {
            fc = linear;
            ModuleSurgery.ReplaceChild(this, "fc", fc);
            views.Head!.SetClassifier(fc);
        }
    }

    // ---------------------------------------------------------------- INormHost

    /// <inheritdoc/>
    public IEnumerable<(string Name, nn.Module<Tensor, Tensor> Norm)> NormLayers => [("bn1", bn1)];

    /// <inheritdoc/>
    public void ReplaceNorm(string name, nn.Module<Tensor, Tensor> replacement)
    {
        if (name != "bn1") throw new ArgumentException($"ResNet has no direct normalisation layer '{name}' (only 'bn1').", nameof(name));
        bn1 = replacement;
        ModuleSurgery.ReplaceChild(this, "bn1", replacement);
        views.Stem.SetNorm(replacement);
    }

    // ---------------------------------------------------------------- state dict

    /// <summary>The state dict with torchvision's keys in PyTorch's order (module by module: parameters, then buffers).</summary>
    public override Dictionary<string, Tensor> state_dict(Dictionary<string, Tensor>? destination = null, string? prefix = null)
    {
        destination ??= new Dictionary<string, Tensor>();
        // TorchSharp hands children their name without the separating dot.
        string p = string.IsNullOrEmpty(prefix) ? "" : prefix.EndsWith('.') ? prefix : prefix + ".";
        foreach (var (name, t) in StateDictOrder.Of(this, p))
            destination.TryAdd(name, t);
        return destination;
    }

    // ---------------------------------------------------------------- forward

    /// <summary>Runs the stem and the stages: the last stage's features <c>[N, C, H/32, W/32]</c>.</summary>
    public Tensor ForwardBackbone(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = images;
        for (int i = 0; i < Count; i++) x = this[i].forward(x);
        return x.MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = ForwardBackbone(images);
        if (views.Head is not null) x = views.Head.forward(x);
        return x.MoveToOuterDisposeScope();
    }
}
