using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Local;

/// <summary>
/// The local-learning engine over a model presented as units: it splits the units into K blocks, builds an
/// auxiliary network for every block but the last, and runs one training step block by block with gradient
/// isolation, freeing each block's graph before the next block runs.
/// </summary>
/// <remarks>
/// One step (DESIGN §2): for k = 1..K, h = block_k(x.detach()); for k &lt; K the auxiliary loss is back-propagated
/// at once, the block's EMA copy follows the next block's first unit, and only h.detach() survives the block;
/// for k = K the main head's losses are back-propagated. The optimizer step is the caller's (see
/// <see cref="Training.LocalTrainer{TTarget}"/>). Registered children: <c>model</c> (the module that owns the
/// units), <c>aux</c> (the K−1 auxiliary networks) and <c>head</c> (the task's main head).
/// </remarks>
/// <typeparam name="TTarget">The task's target type.</typeparam>
public sealed class LocalLearner<TTarget> : nn.Module
{
    private readonly nn.Module model;
    private readonly ModuleList<AuxiliaryNetwork<TTarget>> aux;
    private readonly MainHead<TTarget> head;
    private readonly IUnitSequence units;
    private readonly HashSet<int> keep;
    private long step;

    /// <summary>Builds the engine.</summary>
    /// <param name="model">The module that owns the units (its parameters are trained; it is saved in checkpoints).</param>
    /// <param name="units">The model as an ordered list of units.</param>
    /// <param name="task">The task: main head and auxiliary head factory.</param>
    /// <param name="plan">The split into K blocks (K = 1 for end-to-end).</param>
    /// <param name="options">Method and engine options.</param>
    /// <param name="inputShape">Shape of one input sample without the batch dimension, e.g. [3, 32, 32], used to
    /// probe the feature shapes the auxiliary networks are built for.</param>
    public LocalLearner(nn.Module model, IUnitSequence units, ILocalTask<TTarget> task, SplitPlan plan,
        LocalLearningOptions options, long[] inputShape) : base("LocalLearner")
    {
        options.Validate();
        if (plan.UnitCount != units.Count)
            throw new ArgumentException($"The split plan covers {plan.UnitCount} units but the model has {units.Count}.", nameof(plan));
        if (options.Method == LocalMethod.E2E && plan.K != 1)
            throw new ArgumentException($"Method e2e trains the model as one block; K must be 1 (got {plan.K}).", nameof(plan));
        this.model = model;
        this.units = units;
        head = task.MainHead;
        Plan = plan;
        Options = options;
        InputShape = inputShape.ToArray();
        foreach (int i in head.ExtraUnitOutputs)
            if (i < 0 || i >= units.Count)
                throw new ArgumentException($"The main head asks for the output of unit {i}, but the model has units 0..{units.Count - 1}.");
        keep = head.ExtraUnitOutputs.ToHashSet();
        if (options.RecomputedBlocks?.FirstOrDefault(b => b + 1 >= plan.K, -1) is int last && last >= 0)
            throw new ArgumentException($"Block {last} cannot be recomputed: only the early blocks 0..{plan.K - 2} of K = {plan.K} have an auxiliary pass.", nameof(options));
        if (options.MomentumCutBlocks?.FirstOrDefault(b => !options.Recomputes(b, plan.K), -1) is int notRecomputed && notRecomputed >= 0)
            throw new ArgumentException($"Block {notRecomputed} cannot cut its EMA branch: only recomputed early blocks have a separate auxiliary pass.", nameof(options));

        UnitShapes = ProbeShapes(inputShape);
        aux = new ModuleList<AuxiliaryNetwork<TTarget>>();
        for (int k = 0; k + 1 < plan.K; k++)
            aux.Add(BuildAuxiliary(k, task));
        RegisterComponents();
    }

    /// <summary>The split plan.</summary>
    public SplitPlan Plan { get; }

    /// <summary>The engine options.</summary>
    public LocalLearningOptions Options { get; }

    /// <summary>Shape of one input sample (without batch).</summary>
    public long[] InputShape { get; }

    /// <summary>Output shape (without batch) of every unit, as probed at construction.</summary>
    public IReadOnlyList<long[]> UnitShapes { get; }

    /// <summary>The auxiliary networks of blocks 0..K−2.</summary>
    public IReadOnlyList<AuxiliaryNetwork<TTarget>> Auxiliaries => aux.ToList();

    /// <summary>The task's main head.</summary>
    public MainHead<TTarget> Head => head;

    /// <summary>The module that owns the units.</summary>
    public nn.Module Model => model;

    /// <summary>The units.</summary>
    public IUnitSequence Units => units;

    /// <summary>Steps taken so far (the engine's own count, saved in checkpoints).</summary>
    public long StepCount { get => step; set => step = value; }

    /// <summary>MAN++'s s of every early block (1 for MAN, NaN for the other methods).</summary>
    public double[] SValues => aux.Select(a => a.SValue).ToArray();

    /// <summary>Raised after each block's backward pass with (block index, loss).</summary>
    public event Action<int, double>? AfterBlockBackward;

    /// <summary>
    /// The block (0..K−1) of every parameter of the model's units, keyed by its name in this learner
    /// (<c>model.…</c>, as <see cref="Training.TrainerOptions.LrScaleByName"/> sees it). Parameters of the model that
    /// belong to no unit (e.g. a classifier the units do not run) are absent.
    /// </summary>
    public IReadOnlyDictionary<string, int> ModelParameterBlocks()
    {
        var blockOf = new Dictionary<IntPtr, int>();
        for (int i = 0; i < units.Count; i++)
            foreach (var p in units[i].parameters())
                blockOf.TryAdd(p.Handle, Plan.BlockOf(i));
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, p) in named_parameters())
            if (name.StartsWith("model.", StringComparison.Ordinal) && blockOf.TryGetValue(p.Handle, out int b))
                result[name] = b;
        return result;
    }

    /// <summary>
    /// Every trainable parameter once (the model, LB copies, heads, decoders and s; never the EMA copies),
    /// for one optimizer over all of them.
    /// </summary>
    public IEnumerable<Parameter> TrainableParameters()
    {
        var seen = new HashSet<IntPtr>();
        foreach (var p in parameters())
            if (p.requires_grad && seen.Add(p.Handle))
                yield return p;
    }

    /// <summary>
    /// One training step: forward and backward block by block. Gradients accumulate into the parameters' grads;
    /// the caller zeroes them before and steps the optimizer after. An early block that learns nothing
    /// (<see cref="IdleEarlyBlocks"/>) runs without a graph and without its auxiliary loss; its loss in the result is NaN.
    /// </summary>
    /// <exception cref="NonFiniteLossException">A loss was NaN or infinite (nothing was back-propagated for that block).</exception>
    public StepResult Step(Tensor input, TTarget target)
    {
        int k = Plan.K;
        var blockLosses = new double[k];
        var named = new Dictionary<string, double>();
        using var outer = NewDisposeScope();
        var kept = new Dictionary<int, Tensor>();
        Tensor x = input;
        for (int b = 0; b < k; b++)
        {
            if (b > 0) Man.Runtime.Memory.ReleaseFreed();
            using var scope = NewDisposeScope();
            if (b + 1 < k && !Learns(b))
            {
                // Nothing in the block learns (its units are frozen, e.g. below torchvision's trainable layers, or the
                // block was frozen with FreezeBlock): its auxiliary loss could only train the auxiliary network, which
                // inference never uses, so the block runs without a graph and without that loss (reported as NaN).
                // Batch-norm statistics update as usual.
                var (output, keptHere) = ForwardWithoutGraph(b, x);
                foreach (var (u, t) in keptHere) kept[u] = t.MoveToOuterDisposeScope();
                blockLosses[b] = double.NaN;
                AfterBlockBackward?.Invoke(b, double.NaN);
                aux[b].UpdateMomentumCopy(units[Plan.Start(b + 1)], Options.EmaMomentum);
                var following = output.MoveToOuterDisposeScope();
                if (!ReferenceEquals(x, input)) x.Dispose();
                x = following;
                continue;
            }
            bool recompute = Options.Recomputes(b, k);
            if (recompute)
            {
                // First pass without a graph; the auxiliary pass starts from a leaf holding the block output and its
                // gradient is then sent through the block's second, graph-keeping pass. Each pass frees its own tensors.
                Tensor rng = torch.random.get_rng_state();
                var (output, keptHere) = ForwardWithoutGraph(b, x);
                foreach (var (u, t) in keptHere) kept[u] = t.MoveToOuterDisposeScope();
                var (v, outputGrad) = AuxiliaryPass(b, output, target, input, Options.CutsMomentum(b, k));
                if (outputGrad is not null)
                {
                    // The second pass makes the same output: the first one's is let go so that only one is alive.
                    output.Dispose();
                    output = BackwardAgain(b, x, outputGrad, rng);
                }
                blockLosses[b] = v;
                AfterBlockBackward?.Invoke(b, v);
                aux[b].UpdateMomentumCopy(units[Plan.Start(b + 1)], Options.EmaMomentum);
                var following = output.MoveToOuterDisposeScope();
                if (!ReferenceEquals(x, input)) x.Dispose();
                x = following;
                continue;
            }
            var h = x.detach();
            for (int u = Plan.Start(b); u < Plan.End(b); u++)
            {
                h = units[u].call(h);
                if (keep.Contains(u))
                    kept[u] = b + 1 < k ? h.detach().MoveToOuterDisposeScope() : h;
            }
            if (b + 1 < k)
            {
                var loss = aux[b].Loss(h, target, input);
                double v = loss.ToDouble();
                if (!double.IsFinite(v)) throw new NonFiniteLossException(step, b, $"block{b}", v);
                if (loss.requires_grad) loss.backward();
                blockLosses[b] = v;
                AfterBlockBackward?.Invoke(b, v);
                aux[b].UpdateMomentumCopy(units[Plan.Start(b + 1)], Options.EmaMomentum);
                var next = h.detach().MoveToOuterDisposeScope();
                if (!ReferenceEquals(x, input)) x.Dispose();
                x = next;
            }
            else
            {
                var losses = head.Losses(kept, h, target);
                Tensor? total = null;
                double sum = 0;
                foreach (var (name, value) in losses)
                {
                    double v = value.ToDouble();
                    if (!double.IsFinite(v)) throw new NonFiniteLossException(step, b, name, v);
                    named[name] = v;
                    sum += v;
                    total = total is null ? value : total + value;
                }
                if (total is null) throw new InvalidOperationException("The main head returned no loss.");
                if (total.requires_grad) total.backward();
                blockLosses[b] = sum;
                AfterBlockBackward?.Invoke(b, sum);
            }
        }
        step++;
        Man.Runtime.Memory.ReleaseFreed();
        return new StepResult(blockLosses, named, SValues);
    }

    /// <summary>
    /// The early blocks (all but the last) that learn nothing: frozen with <see cref="FreezeBlock"/>, or every parameter
    /// of their units without <c>requires_grad</c> (e.g. frozen by fine-tuning). <see cref="Step"/> runs them without a
    /// graph and without their auxiliary loss.
    /// </summary>
    public IReadOnlyList<int> IdleEarlyBlocks() => Enumerable.Range(0, Plan.K - 1).Where(b => !Learns(b)).ToArray();

    private readonly HashSet<int> frozenBlocks = [];

    /// <summary>
    /// Stops an early block learning (progressive freezing, as FreezeOut): from the next <see cref="Step"/> on it runs
    /// without a graph and without its auxiliary loss (<see cref="IdleEarlyBlocks"/>), so neither its units nor its
    /// auxiliary network get gradients and the optimizer leaves them as they are. Their parameters keep
    /// <c>requires_grad</c>, so an optimizer built later (a new schedule segment, a resumed run) holds the same
    /// parameters as the first. Batch-norm statistics still follow the data in training mode. Not saved in checkpoints:
    /// callers freeze again after a resume.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not an early block (0..K−2).</exception>
    public void FreezeBlock(int block)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(block);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(block, Plan.K - 1);
        frozenBlocks.Add(block);
    }

    /// <summary>
    /// Whether the block learns: not frozen with <see cref="FreezeBlock"/>, and some parameter of its units requires a
    /// gradient (checked each step: callers may freeze or unfreeze units).
    /// </summary>
    private bool Learns(int block)
    {
        if (frozenBlocks.Contains(block)) return false;
        for (int u = Plan.Start(block); u < Plan.End(block); u++)
            foreach (var p in units[u].parameters())
                if (p.requires_grad) return true;
        return false;
    }

    /// <summary>A block's forward without a graph: its output and the outputs of its units the main head asks for (detached).</summary>
    private (Tensor Output, Dictionary<int, Tensor> Kept) ForwardWithoutGraph(int block, Tensor input)
    {
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        var keptHere = new Dictionary<int, Tensor>();
        var h = input.detach();
        for (int u = Plan.Start(block); u < Plan.End(block); u++)
        {
            h = units[u].call(h);
            if (keep.Contains(u)) keptHere[u] = h.detach().MoveToOuterDisposeScope();
        }
        return (h.MoveToOuterDisposeScope(), keptHere);
    }

    /// <summary>
    /// The auxiliary network's forward and backward on a leaf holding the block output: the loss and the output's
    /// gradient. With <paramref name="cutMomentum"/> the EMA branch (MAN/MAN++) is cut out of the loss's graph and
    /// back-propagated on its own afterwards (<see cref="AuxiliaryNetwork{TTarget}.LossWithMomentumLeaf"/>), so the two
    /// copies' graphs are never alive together.
    /// </summary>
    private (double Loss, Tensor? OutputGrad) AuxiliaryPass(int block, Tensor output, TTarget target, Tensor input, bool cutMomentum)
    {
        using var scope = NewDisposeScope();
        var leaf = output.detach().requires_grad_(true);
        var (loss, momentumLeaf, rng) = cutMomentum
            ? aux[block].LossWithMomentumLeaf(leaf, target, input)
            : (aux[block].Loss(leaf, target, input), null, null);
        using var ownedLeaf = momentumLeaf;
        using var ownedRng = rng;
        double v = loss.ToDouble();
        if (!double.IsFinite(v)) throw new NonFiniteLossException(step, block, $"block{block}", v);
        if (loss.requires_grad) loss.backward();
        loss.Dispose();
        Tensor? grad = leaf.grad?.detach();
        if (momentumLeaf?.grad is Tensor momentumGrad)
        {
            var throughMomentum = aux[block].MomentumInputGradient(output, momentumGrad, rng!);
            grad = grad is null ? throughMomentum : grad.add_(throughMomentum);
        }
        return (v, grad?.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The second pass of a recomputed block: the same random state as the first pass, the block's forward with a
    /// graph, backward of the output gradient; the buffers (batch-norm statistics) are put back to their values after
    /// the first pass, so the step updates them once, as without recomputation. Returns the block output (detached).
    /// </summary>
    private Tensor BackwardAgain(int block, Tensor input, Tensor outputGrad, Tensor rngState)
    {
        using var scope = NewDisposeScope();
        var buffers = new List<(Tensor Buffer, Tensor Saved)>();
        using (torch.no_grad())
            for (int u = Plan.Start(block); u < Plan.End(block); u++)
                foreach (var (_, buffer) in units[u].named_buffers())
                    buffers.Add((buffer, buffer.clone()));
        var after = torch.random.get_rng_state();
        torch.random.set_rng_state(rngState);
        var h = input.detach();
        for (int u = Plan.Start(block); u < Plan.End(block); u++) h = units[u].call(h);
        if (h.requires_grad)
        {
            // ⟨h, g⟩ back-propagates g exactly (its gradient with respect to h is g · 1), and the graph is then the only
            // owner of g: the dot product's node lets it go as soon as it has run, instead of holding it (one more
            // block output) through the whole backward pass as h.backward(g) would while this method keeps its handle.
            using var flatOutput = h.flatten();
            var flatGrad = outputGrad.flatten();
            using var product = flatOutput.dot(flatGrad);
            flatGrad.Dispose();
            outputGrad.Dispose();
            product.backward();
        }
        else outputGrad.Dispose();
        torch.random.set_rng_state(after);
        using (torch.no_grad())
            foreach (var (buffer, saved) in buffers) buffer.copy_(saved);
        return h.detach().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// What the engine does after the optimizer step: MAN++'s s projected onto [0, 2] when
    /// <see cref="LocalLearningOptions.ClampS"/> is set. <see cref="Training.LocalTrainer{TTarget}"/> calls it; callers
    /// with their own optimizer loop call it after their <c>step()</c>.
    /// </summary>
    public void AfterOptimizerStep()
    {
        if (!Options.ClampS) return;
        foreach (var a in aux) a.ClampS();
    }

    /// <summary>
    /// Runs the units in order (no gradient bookkeeping of its own) and returns the last output with the
    /// outputs of the units listed in <see cref="MainHead{TTarget}.ExtraUnitOutputs"/>; for inference.
    /// </summary>
    public (Dictionary<int, Tensor> Outputs, Tensor Last) RunUnits(Tensor input)
    {
        var outputs = new Dictionary<int, Tensor>();
        var h = input;
        for (int u = 0; u < units.Count; u++)
        {
            h = units[u].call(h);
            if (keep.Contains(u)) outputs[u] = h;
        }
        return (outputs, h);
    }

    private AuxiliaryNetwork<TTarget> BuildAuxiliary(int block, ILocalTask<TTarget> task)
    {
        int end = Plan.End(block);
        var method = Options.Method;
        nn.Module<Tensor, Tensor>? lb = null, ema = null;
        ReconstructionDecoder? decoder = null;
        long[] headShape = UnitShapes[end - 1];
        if (method is LocalMethod.Man or LocalMethod.ManPlusPlus)
        {
            lb = units.CreateLike(end);
            ema = units.CreateLike(end);
            var device = DeviceOf(units[end]);
            lb.to(device);
            ema.to(device);
            if (Options.InitializeCopiesFromUnit)
            {
                CopyParameters(units[end], lb);
                CopyParameters(units[end], ema);
            }
            headShape = UnitShapes[end];
        }
        if (method == LocalMethod.InfoPro)
            decoder = new ReconstructionDecoder(UnitShapes[end - 1][0], InputShape);
        var auxHead = task.CreateAuxiliaryHead(new AuxiliaryHeadContext(block, headShape, InputShape));
        var net = new AuxiliaryNetwork<TTarget>(method, lb, ema, auxHead, decoder, Options);
        net.to(DeviceOf(units[Plan.Start(block)]));
        return net;
    }

    private static void CopyParameters(nn.Module from, nn.Module to)
    {
        using var noGrad = torch.no_grad();
        var source = from.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in to.named_parameters())
        {
            if (!source.TryGetValue(name, out var q) || !q.shape.SequenceEqual(p.shape))
                throw new InvalidOperationException($"CreateLike built a module whose parameter '{name}' does not match the unit's.");
            p.copy_(q);
        }
    }

    private static Device DeviceOf(nn.Module m)
    {
        foreach (var p in m.parameters()) return p.device;
        return CPU;
    }

    private List<long[]> ProbeShapes(long[] inputShape)
    {
        var shapes = new List<long[]>();
        var device = units.Count > 0 ? DeviceOf(units[0]) : CPU;
        var training = new bool[units.Count];
        for (int u = 0; u < units.Count; u++)
        {
            training[u] = units[u].training;
            units[u].eval();
        }
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = torch.no_grad();
            var h = torch.zeros([2, .. inputShape], device: device);
            for (int u = 0; u < units.Count; u++)
            {
                h = units[u].call(h);
                shapes.Add(h.shape.Skip(1).ToArray());
            }
        }
        finally
        {
            for (int u = 0; u < units.Count; u++) units[u].train(training[u]);
        }
        return shapes;
    }
}
