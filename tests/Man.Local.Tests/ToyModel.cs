using Man.Local;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Local.Tests;

/// <summary>conv3×3 → BN → ReLU, optionally strided.</summary>
internal sealed class ToyUnit : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;

    public ToyUnit(long cin, long cout, long stride) : base(nameof(ToyUnit))
    {
        conv = nn.Conv2d(cin, cout, 3, stride: stride, padding: 1, bias: false);
        bn = nn.BatchNorm2d(cout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return nn.functional.relu(bn.forward(conv.forward(x))).MoveToOuterDisposeScope();
    }
}

/// <summary>A small conv net presented as units; unit i maps channels[i] to channels[i+1].</summary>
internal sealed class ToyNet : nn.Module, IUnitSequence
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> units = new();
    private readonly long[] channels;
    private readonly long[] strides;

    public ToyNet(long[] channels, long[] strides) : base(nameof(ToyNet))
    {
        this.channels = channels;
        this.strides = strides;
        for (int i = 0; i + 1 < channels.Length; i++) units.Add(new ToyUnit(channels[i], channels[i + 1], strides[i]));
        RegisterComponents();
    }

    public static ToyNet Create(long seed, int n = 6)
    {
        torch.manual_seed(seed);
        var ch = new long[n + 1];
        var st = new long[n];
        ch[0] = 3;
        for (int i = 0; i < n; i++) { ch[i + 1] = 8 + 4 * (i / 2); st[i] = i % 2 == 1 ? 2 : 1; }
        return new ToyNet(ch, st);
    }

    public int Count => units.Count;
    public nn.Module<Tensor, Tensor> this[int index] => units[index];
    public string UnitName(int index) => $"unit{index}";
    public nn.Module<Tensor, Tensor> CreateLike(int index) => new ToyUnit(channels[index], channels[index + 1], strides[index]);
}

/// <summary>Global pool + linear + cross-entropy, as main head and auxiliary head.</summary>
internal sealed class PoolLinearHead : MainHead<Tensor>
{
    private readonly Linear fc;
    public PoolLinearHead(long channels, long classes) : base(nameof(PoolLinearHead))
    {
        fc = nn.Linear(channels, classes);
        RegisterComponents();
    }

    public Tensor Logits(Tensor h) => fc.forward(nn.functional.adaptive_avg_pool2d(h, 1).flatten(1));

    public override IReadOnlyDictionary<string, Tensor> Losses(IReadOnlyDictionary<int, Tensor> outputs, Tensor last, Tensor target) =>
        new Dictionary<string, Tensor> { ["loss_cls"] = nn.functional.cross_entropy(Logits(last), target) };
}

internal sealed class PoolLinearAux : AuxiliaryHead<Tensor>
{
    private readonly Linear fc;
    public PoolLinearAux(long channels, long classes) : base(nameof(PoolLinearAux))
    {
        fc = nn.Linear(channels, classes);
        RegisterComponents();
    }

    public override Tensor Loss(Tensor features, Tensor target) =>
        nn.functional.cross_entropy(fc.forward(nn.functional.adaptive_avg_pool2d(features, 1).flatten(1)), target);
}

internal sealed class ToyTask : ILocalTask<Tensor>
{
    private readonly long classes;
    public ToyTask(long lastChannels, long classes)
    {
        this.classes = classes;
        MainHead = new PoolLinearHead(lastChannels, classes);
    }

    public MainHead<Tensor> MainHead { get; }
    public List<AuxiliaryHeadContext> Contexts { get; } = [];

    public AuxiliaryHead<Tensor> CreateAuxiliaryHead(AuxiliaryHeadContext context)
    {
        Contexts.Add(context);
        return new PoolLinearAux(context.Channels, classes);
    }
}

internal static class Toy
{
    public const int Classes = 4;

    public static (Tensor X, Tensor Y) Batch(long seed, int n = 8)
    {
        var g = new Generator().manual_seed(seed);
        var x = torch.randn([n, 3, 16, 16], generator: g);
        var y = torch.randint(0, Classes, [n], generator: g, dtype: ScalarType.Int64);
        return (x, y);
    }

    public static (ToyNet Net, ToyTask Task, LocalLearner<Tensor> Learner) Build(LocalMethod method, int k, long seed = 1, int units = 6, bool clampS = true, bool recompute = false, int[]? recomputed = null,
        int[]? momentumCuts = null)
    {
        var net = ToyNet.Create(seed, units);
        var task = new ToyTask(8 + 4 * ((units - 1) / 2), Classes);
        var plan = k == 1 ? SplitPlan.Single(net.Count) : SplitPlan.Uniform(k, net.Count);
        torch.manual_seed(seed + 100);
        var learner = new LocalLearner<Tensor>(net, net, task, plan, new LocalLearningOptions { Method = method, ClampS = clampS, RecomputeBlocks = recompute, RecomputedBlocks = recomputed, MomentumCutBlocks = momentumCuts }, [3, 16, 16]);
        return (net, task, learner);
    }

    public static Dictionary<string, Tensor> Snapshot(nn.Module m) =>
        m.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

    public static double MaxAbsDiff(Tensor a, Tensor b) => (a - b).abs().max().ToDouble();
}
