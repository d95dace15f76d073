using Man.Local;
using Man.Local.Training;
using Man.Vision.Backbones.ResNets;
using Newtonsoft.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Classification.Training;

/// <summary>A classifier ready for the engine: the ResNet, its task and the local learner around them.</summary>
public sealed class ClassificationModel : IDisposable
{
    private ClassificationModel(ResNet network, ClassificationTask task, LocalLearner<Tensor> learner, IReadOnlyList<string> classes)
    {
        Network = network;
        Task = task;
        Learner = learner;
        Classes = classes;
    }

    /// <summary>The network (torchvision names).</summary>
    public ResNet Network { get; }

    /// <summary>The task (main and auxiliary heads).</summary>
    public ClassificationTask Task { get; }

    /// <summary>The engine.</summary>
    public LocalLearner<Tensor> Learner { get; }

    /// <summary>Class names.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>
    /// Builds the network, the split plan and the engine. The seed fixes every initialisation.
    /// </summary>
    /// <param name="arch">Architecture name.</param>
    /// <param name="method">Learning method.</param>
    /// <param name="k">Number of blocks.</param>
    /// <param name="split">balanced, uniform or explicit block starts.</param>
    /// <param name="classes">Class names.</param>
    /// <param name="sampleShape">[C, H, W] of one input.</param>
    /// <param name="seed">Initialisation seed.</param>
    /// <param name="emaMomentum">EMA momentum (MAN/MAN++).</param>
    /// <param name="device">Device, or null for the CPU.</param>
    /// <param name="prepare">Runs on the network before the split is planned (load weights, freeze units).</param>
    /// <param name="recompute">
    /// Recompute early blocks (<see cref="LocalLearningOptions.RecomputedBlocks"/>): with the balanced split only those that
    /// need it (<see cref="SplitPlan.BalancedWithRecompute"/>), with other splits every early block.
    /// </param>
    /// <param name="initializeCopiesFromUnit">MAN/MAN++: LB and EMA start from the weights of the unit they copy.</param>
    /// <param name="recomputeSlack">With <paramref name="recompute"/> and the balanced split: the memory above the smallest bound a block may use and keep its graph (<see cref="RecomputeSlack"/>).</param>
    public static ClassificationModel Create(string arch, LocalMethod method, int k, string split, IReadOnlyList<string> classes,
        long[] sampleShape, long seed, double emaMomentum = 0.995, Device? device = null, Action<ResNet>? prepare = null, bool recompute = false,
        bool initializeCopiesFromUnit = false, double recomputeSlack = RecomputeSlack)
    {
        if (classes.Count < 2) throw new ArgumentException($"A classifier needs at least 2 classes (got {classes.Count}).");
        torch.manual_seed(seed);
        var network = ResNetFactory.Create(arch, classes.Count);
        if (sampleShape[0] != 3)
            throw new ArgumentException($"The ResNets take 3-channel images; the data has {sampleShape[0]} channels (use the 3-channel option of the data set).");
        prepare?.Invoke(network);
        if (device is not null) network.to(device);
        var (plan, recomputed, cuts) = PlanBlocks(network, method, k, split, sampleShape, recompute, recomputeSlack);
        var task = new ClassificationTask(network.Head ?? throw new InvalidOperationException($"{arch} was built without a classifier."), classes.Count);
        torch.manual_seed(seed + 1);
        var learner = new LocalLearner<Tensor>(network, network, task, plan,
            new LocalLearningOptions { Method = method, EmaMomentum = emaMomentum, RecomputedBlocks = recomputed, MomentumCutBlocks = cuts, InitializeCopiesFromUnit = initializeCopiesFromUnit }, sampleShape);
        if (device is not null) learner.to(device);
        return new ClassificationModel(network, task, learner, classes);
    }

    /// <summary>Rebuilds a model from a checkpoint's metadata and loads its weights.</summary>
    public static ClassificationModel Load(string checkpoint, Device? device = null)
    {
        var meta = CheckpointMeta.Read(checkpoint, "classify", "classification");
        var classes = JsonConvert.DeserializeObject<string[]>(meta.Require("classes"))!;
        var shape = JsonConvert.DeserializeObject<long[]>(meta.Require("sample_shape"))!;
        var starts = meta.BlockStarts;
        var model = Create(meta.Require("arch"), LocalMethods.Parse(meta.Require("method")), starts.Count, string.Join(",", starts), classes, shape, 0, device: device);
        LocalTrainer<Tensor>.LoadWeights(model.Learner, checkpoint);
        return model;
    }

    /// <summary>The metadata stored with checkpoints, from which <see cref="Load"/> rebuilds the model.</summary>
    public Dictionary<string, string> Meta(string arch) => new()
    {
        ["task"] = "classify",
        ["arch"] = arch,
        ["method"] = Learner.Options.Method.Name(),
        ["classes"] = JsonConvert.SerializeObject(Classes),
        ["sample_shape"] = JsonConvert.SerializeObject(Learner.InputShape),
    };

    /// <summary>Class logits of a batch (no gradient bookkeeping of its own; call under no_grad and eval()).</summary>
    public Tensor Logits(Tensor images)
    {
        using var scope = NewDisposeScope();
        var (_, last) = Learner.RunUnits(images);
        return Task.Head.Logits(last).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The memory slack of the recomputing balanced split (<see cref="SplitPlan.BalancedWithRecompute"/>): blocks that
    /// would exceed the bound by at most 10 % keep their graph. Measured on ResNet-101, batch 16, 224², MAN++ K = 4
    /// <c>--step-each-block</c> (1 thread, huge pages, README): with 2 % all three early blocks are recomputed and block 0
    /// cuts its EMA branch (0.475× e2e's peak, 1.41× its step); with 8–12 % the third block (most of layer3 before the last
    /// block, most of the early blocks' multiply-accumulates) keeps its graph (0.49–0.495×, 1.27–1.29×). Earlier builds,
    /// whose second pass held the output gradient: 20 % recomputed the first block only (0.52×, 1.19–1.25×).
    /// </summary>
    public const double RecomputeSlack = 0.10;

    /// <summary>The split plan for <paramref name="split"/>: balanced, uniform or explicit starts.</summary>
    public static SplitPlan MakePlan(ResNet network, LocalMethod method, int k, string split, long[] sampleShape, bool recompute = false) =>
        PlanBlocks(network, method, k, split, sampleShape, recompute).Plan;

    /// <summary>
    /// The split plan, the early blocks to recompute and the recomputed blocks whose auxiliary pass cuts the EMA branch
    /// out of its graph: none without <paramref name="recompute"/>; with it, the blocks the balanced split chooses
    /// (<see cref="SplitPlan.BalancedWithRecompute"/>), or every early block of other splits, and among those the ones
    /// whose uncut auxiliary pass would rise above the plan's peak (<see cref="SplitPlan.MomentumCuts"/>).
    /// </summary>
    public static (SplitPlan Plan, IReadOnlyList<int> Recomputed, IReadOnlyList<int> MomentumCuts) PlanBlocks(ResNet network, LocalMethod method,
        int k, string split, long[] sampleShape, bool recompute, double recomputeSlack = RecomputeSlack)
    {
        int n = network.Count;
        if (method == LocalMethod.E2E || k == 1) return (SplitPlan.Single(n), [], []);
        if (k > n) throw new ArgumentException($"K = {k} is larger than the number of units of this network ({n}).");
        // Frozen leading units (fine-tuning) learn nothing: they all go into the first block, never a block of their own.
        int frozen = Enumerable.Range(0, n).TakeWhile(i => !network[i].parameters().Any(p => p.requires_grad)).Count();
        string mode = split.Trim().ToLowerInvariant();
        SplitPlan plan;
        IReadOnlyList<int> recomputed;
        var costs = UnitCosts(network, method, sampleShape);
        if (mode == "balanced")
        {
            if (k > n - frozen) throw new ArgumentException($"K = {k} is larger than the number of trainable units ({n - frozen}) after freezing {frozen}.");
            var (rest, chosen) = Balanced(costs.Skip(frozen), k, recompute, recomputeSlack);
            plan = new SplitPlan(rest.Starts.Select((s, i) => i == 0 ? 0 : s + frozen).ToArray(), n);
            recomputed = chosen;
        }
        else
        {
            if (mode == "uniform")
            {
                if (k > n - frozen) throw new ArgumentException($"K = {k} is larger than the number of trainable units ({n - frozen}) after freezing {frozen}.");
                plan = new SplitPlan(SplitPlan.Uniform(k, n - frozen).Starts.Select((s, i) => i == 0 ? 0 : s + frozen).ToArray(), n);
            }
            else plan = CheckK(SplitPlan.Parse(split, n), k);
            recomputed = recompute ? Enumerable.Range(0, plan.K - 1).ToArray() : [];
        }
        var cuts = recomputed.Count == 0 || costs.Boundary is null ? [] : SplitPlan.MomentumCuts(plan, recomputed, costs.Activation, costs.Boundary, costs.CutBoundary, costs.Output);
        return (plan, recomputed, cuts);
    }

    /// <summary>
    /// The memory model of the split, per unit: the activations it keeps for its backward pass, its output, and the
    /// auxiliary network at a boundary before it (MAN/MAN++: two copies of the unit, whose activations are kept for the
    /// backward pass, and the fusion's three maps; with the EMA branch cut, one copy's graph and four maps: EMA's output,
    /// s·LB, (2 − s)·EMA and their sum), and its forward cost (parameters × output pixels, the multiply-accumulates of its
    /// convolutions).
    /// </summary>
    private sealed record UnitCostModel(double[] Activation, double[] Output, double[]? Boundary, double[]? CutBoundary, double[] Forward)
    {
        public UnitCostModel Skip(int count) => new(Activation[count..], Output[count..], Boundary?[count..], CutBoundary?[count..], Forward[count..]);
    }

    private static UnitCostModel UnitCosts(ResNet network, LocalMethod method, long[] sampleShape)
    {
        var units = network.DescribeUnits(sampleShape[1], sampleShape[2]).ToArray();
        bool copies = method is LocalMethod.Man or LocalMethod.ManPlusPlus;
        return new UnitCostModel(
            units.Select(u => (double)u.ActivationElements).ToArray(),
            units.Select(u => (double)u.OutputElements).ToArray(),
            copies ? units.Select(u => 2.0 * u.ActivationElements + 3.0 * u.OutputElements).ToArray() : null,
            copies ? units.Select(u => u.ActivationElements + 4.0 * u.OutputElements).ToArray() : null,
            units.Select(u => (double)u.Parameters * u.Height * u.Width).ToArray());
    }

    /// <summary>
    /// A split balanced by activation memory: each block's units plus, at its end, the auxiliary network (for
    /// MAN/MAN++ two copies of the next unit, whose activations are kept for the backward pass as well). With
    /// recomputation a recomputed block costs the larger of the two, and only the blocks that must are recomputed.
    /// </summary>
    private static (SplitPlan Plan, IReadOnlyList<int> Recomputed) Balanced(UnitCostModel costs, int k, bool recompute, double slack)
    {
        if (!recompute) return (SplitPlan.Balanced(k, costs.Activation, costs.Boundary is null ? null : costs.Activation.Select(c => 2 * c).ToArray()), []);
        // MAN/MAN++ boundary work: LB's forward and backward (weights and input, ≈ 3 forwards) and EMA's forward and
        // input backward (≈ 2 forwards) of the copied unit.
        var boundaryWork = costs.Boundary is null ? null : costs.Forward.Select(f => 5 * f).ToArray();
        return SplitPlan.BalancedWithRecompute(k, costs.Activation, costs.Boundary, costs.Forward, slack, costs.Output, costs.CutBoundary, boundaryWork);
    }

    private static SplitPlan CheckK(SplitPlan plan, int k) =>
        plan.K == k ? plan : throw new ArgumentException($"The split '{plan}' has {plan.K} blocks but --k is {k}.");

    /// <inheritdoc/>
    public void Dispose()
    {
        Learner.Dispose();
        Network.Dispose();
    }
}
