using Man.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Fpn;

/// <summary>
/// Feature Pyramid Network (Lin et al. 2017), as torchvision's <c>FeaturePyramidNetwork</c> with the
/// <c>LastLevelMaxPool</c> extra block: a 1×1 lateral conv per input map (<c>inner_blocks.i.0</c>), a top-down path
/// adding the nearest-upsampled coarser result, a 3×3 output conv (<c>layer_blocks.i.0</c>), and optionally a "pool"
/// level = max_pool(kernel 1, stride 2) of the coarsest output. State-dict keys equal torchvision's.
/// </summary>
/// <remarks>Shape shorthand: inputs <c>[B, C_i, H_i, W_i]</c> finest first → outputs <c>[B, out, H_i, W_i]</c> (+ pool <c>[B, out, ⌈H_last/2⌉, ⌈W_last/2⌉]</c>).</remarks>
public sealed class FeaturePyramidNetwork : nn.Module<OrderedDictionary<string, Tensor>, OrderedDictionary<string, Tensor>>
{
    private readonly ModuleList<Sequential> inner_blocks;
    private readonly ModuleList<Sequential> layer_blocks;

    /// <summary>Name of the extra max-pooled level.</summary>
    public const string PoolName = "pool";

    /// <summary>Creates the FPN.</summary>
    /// <param name="inChannels">Channels of each input map, finest first (ResNet-50: 256, 512, 1024, 2048).</param>
    /// <param name="outChannels">Channels of every output (256).</param>
    /// <param name="lastLevelMaxPool">Append the "pool" level (torchvision's Faster R-CNN: yes).</param>
    public FeaturePyramidNetwork(IReadOnlyList<long> inChannels, long outChannels, bool lastLevelMaxPool = true)
        : base(nameof(FeaturePyramidNetwork))
    {
        if (inChannels.Count == 0) throw new ArgumentException("The FPN needs at least one input map.", nameof(inChannels));
        if (inChannels.Any(c => c <= 0))
            throw new ArgumentException($"Input channels must be positive, got [{string.Join(", ", inChannels)}].", nameof(inChannels));
        if (outChannels <= 0) throw new ArgumentOutOfRangeException(nameof(outChannels), outChannels, "Output channels must be positive.");
        inner_blocks = new ModuleList<Sequential>(inChannels.Select(c => nn.Sequential(nn.Conv2d(c, outChannels, 1))).ToArray());
        layer_blocks = new ModuleList<Sequential>(inChannels.Select(_ => nn.Sequential(nn.Conv2d(outChannels, outChannels, 3, padding: 1))).ToArray());
        InChannels = inChannels.ToArray();
        OutChannels = outChannels;
        LastLevelMaxPool = lastLevelMaxPool;
        RegisterComponents();
        using (torch.no_grad())
        {
            foreach (var (name, p) in named_parameters())
            {
                if (name.EndsWith(".weight", StringComparison.Ordinal)) nn.init.kaiming_uniform_(p, a: 1);
                else nn.init.constant_(p, 0);
            }
        }
    }

    /// <summary>Channels of each input map.</summary>
    public IReadOnlyList<long> InChannels { get; }

    /// <summary>Channels of each output map.</summary>
    public long OutChannels { get; }

    /// <summary>Whether the "pool" level is appended.</summary>
    public bool LastLevelMaxPool { get; }

    /// <summary>The pyramid: one output per input (same names) plus "pool" when enabled.</summary>
    public override OrderedDictionary<string, Tensor> forward(OrderedDictionary<string, Tensor> x)
    {
        if (x.Count != InChannels.Count)
            throw new ArgumentException($"The FPN was built for {InChannels.Count} maps but got {x.Count} ({string.Join(", ", x.Keys)}).", nameof(x));
        using var scope = NewDisposeScope();
        var names = x.Keys.ToList();
        var maps = x.Values.ToList();
        int n = maps.Count;
        var results = new Tensor[n];
        Tensor lastInner = inner_blocks[n - 1].call(maps[n - 1]);
        results[n - 1] = layer_blocks[n - 1].call(lastInner);
        for (int i = n - 2; i >= 0; i--)
        {
            Tensor lateral = inner_blocks[i].call(maps[i]);
            Tensor topDown = nn.functional.interpolate(lastInner, size: [lateral.shape[^2], lateral.shape[^1]], mode: InterpolationMode.Nearest);
            lastInner = lateral.add(topDown, RootedScalars.One);
            results[i] = layer_blocks[i].call(lastInner);
        }
        var output = new OrderedDictionary<string, Tensor>();
        for (int i = 0; i < n; i++) output.Add(names[i], results[i].MoveToOuterDisposeScope());
        if (LastLevelMaxPool)
            output.Add(PoolName, nn.functional.max_pool2d(results[n - 1], 1, 2, 0).MoveToOuterDisposeScope());
        return output;
    }
}
