using Man.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Local;

/// <summary>
/// The auxiliary network of one early block: for MAN/MAN++ a learnable copy (LB) and a momentum copy (EMA)
/// of the next block's first unit, fused as y = s·LB(h) + (2−s)·EMA(h); then the task's auxiliary head.
/// For greedy learning the head alone; for InfoPro the head plus a reconstruction decoder.
/// </summary>
public sealed class AuxiliaryNetwork<TTarget> : nn.Module
{
    private readonly LocalMethod method;
    private readonly nn.Module<Tensor, Tensor>? lb;
    private readonly nn.Module<Tensor, Tensor>? ema;
    private readonly Parameter? s;
    private readonly AuxiliaryHead<TTarget> head;
    private readonly ReconstructionDecoder? decoder;
    private readonly double reconstructionWeight;
    private readonly Func<Tensor, Tensor>? reconstructionTarget;

    /// <summary>Builds the auxiliary network.</summary>
    /// <param name="method">The method (not <see cref="LocalMethod.E2E"/>).</param>
    /// <param name="lb">Learnable copy of the next block's first unit (MAN/MAN++ only).</param>
    /// <param name="ema">Momentum copy of the same unit (MAN/MAN++ only); its parameters are frozen here.</param>
    /// <param name="head">The task's auxiliary head.</param>
    /// <param name="decoder">InfoPro's decoder (InfoPro only).</param>
    /// <param name="options">Engine options (s initial value, reconstruction weight and target).</param>
    public AuxiliaryNetwork(LocalMethod method, nn.Module<Tensor, Tensor>? lb, nn.Module<Tensor, Tensor>? ema,
        AuxiliaryHead<TTarget> head, ReconstructionDecoder? decoder, LocalLearningOptions options)
        : base("AuxiliaryNetwork")
    {
        this.method = method;
        this.head = head;
        if (method is LocalMethod.Man or LocalMethod.ManPlusPlus)
        {
            this.lb = lb ?? throw new ArgumentNullException(nameof(lb));
            this.ema = ema ?? throw new ArgumentNullException(nameof(ema));
            foreach (var p in ema.parameters()) p.requires_grad = false;
        }
        if (method == LocalMethod.ManPlusPlus)
            s = new Parameter(torch.tensor((float)options.InitialS));
        if (method == LocalMethod.InfoPro)
            this.decoder = decoder ?? throw new ArgumentNullException(nameof(decoder));
        reconstructionWeight = options.ReconstructionWeight;
        reconstructionTarget = options.ReconstructionTarget;
        RegisterComponents();
    }

    /// <summary>The learnable copy (LB), or null.</summary>
    public nn.Module<Tensor, Tensor>? Learnable => lb;

    /// <summary>The momentum copy (EMA), or null.</summary>
    public nn.Module<Tensor, Tensor>? Momentum => ema;

    /// <summary>MAN++'s fusion scalar s, or null for other methods.</summary>
    public Parameter? S => s;

    /// <summary>The task's auxiliary head.</summary>
    public AuxiliaryHead<TTarget> Head => head;

    /// <summary>The current value of s (1 for MAN, NaN where the method has none).</summary>
    public double SValue => s is not null ? s.ToSingle() : method == LocalMethod.Man ? 1.0 : double.NaN;

    /// <summary>The features the head sees: h, or the fusion of LB(h) and EMA(h).</summary>
    public Tensor Features(Tensor h) => Fuse(h, ema is null ? null : ema.call);

    private Tensor Fuse(Tensor h, Func<Tensor, Tensor>? momentum)
    {
        if (lb is null || momentum is null) return h;
        using var scope = NewDisposeScope();
        var a = lb.call(h);
        var b = momentum(h);
        // Scalars held for the whole expression (see RootedScalars: a temporary one can be finalized mid-call).
        using var two = 2.0.ToScalar();
        var y = s is null ? a.add(b, RootedScalars.One) : s.mul(a).add((two - s).mul(b), RootedScalars.One);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The local loss with the momentum branch cut out of the graph: EMA(h) is computed without a graph and enters the
    /// fusion as a leaf, so that the LB branch's graph and the EMA branch's are never alive together. After the loss's
    /// backward pass, <see cref="MomentumInputGradient"/> sends the leaf's gradient through a second EMA forward pass to
    /// <paramref name="h"/>. Without an EMA copy this is <see cref="Loss"/> with no leaf.
    /// </summary>
    /// <returns>The loss, the leaf (its gradient is set by the loss's backward pass) and the random state before the EMA pass.</returns>
    public (Tensor Loss, Tensor? MomentumLeaf, Tensor? RngState) LossWithMomentumLeaf(Tensor h, TTarget target, Tensor input)
    {
        if (ema is null) return (Loss(h, target, input), null, null);
        Tensor? leaf = null, rng = null;
        Tensor Momentum(Tensor x)
        {
            rng = torch.random.get_rng_state().DetachFromDisposeScope();
            using var noGrad = torch.no_grad();
            leaf = ema.call(x.detach()).detach().requires_grad_(true).DetachFromDisposeScope();
            return leaf;
        }
        var loss = LossCore(h, target, input, Momentum);
        return (loss, leaf, rng);
    }

    /// <summary>
    /// The gradient that the EMA branch sends to <paramref name="h"/> for the output gradient <paramref name="leafGrad"/>:
    /// EMA(h) again with a graph, from the same random state; its buffers (batch-norm statistics) are put back, so that
    /// they change once per step as without the cut.
    /// </summary>
    public Tensor MomentumInputGradient(Tensor h, Tensor leafGrad, Tensor rngState)
    {
        if (ema is null) throw new InvalidOperationException("This auxiliary network has no momentum copy.");
        using var scope = NewDisposeScope();
        var saved = new List<(Tensor Buffer, Tensor Copy)>();
        using (torch.no_grad())
            foreach (var (_, buffer) in ema.named_buffers()) saved.Add((buffer, buffer.clone()));
        var after = torch.random.get_rng_state();
        torch.random.set_rng_state(rngState);
        var x = h.detach().requires_grad_(true);
        ema.call(x).backward([leafGrad]);
        torch.random.set_rng_state(after);
        using (torch.no_grad())
            foreach (var (buffer, copy) in saved) buffer.copy_(copy);
        return x.grad!.detach().MoveToOuterDisposeScope();
    }

    /// <summary>Projects s onto [0, 2] (no-op without s).</summary>
    public void ClampS()
    {
        if (s is null) return;
        using var noGrad = torch.no_grad();
        using var lo = 0.0.ToScalar();
        using var hi = 2.0.ToScalar();
        s.clamp_(lo, hi);
    }

    /// <summary>The local loss of the block output <paramref name="h"/>; <paramref name="input"/> is the model input (InfoPro).</summary>
    public Tensor Loss(Tensor h, TTarget target, Tensor input) => LossCore(h, target, input, ema is null ? null : ema.call);

    private Tensor LossCore(Tensor h, TTarget target, Tensor input, Func<Tensor, Tensor>? momentum)
    {
        using var scope = NewDisposeScope();
        var loss = head.Loss(Fuse(h, momentum), target);
        if (decoder is not null && reconstructionWeight > 0)
        {
            var reconstruction = decoder.forward(h);
            var goal = (reconstructionTarget ?? MinMax)(input).detach();
            if (goal.shape[2] != reconstruction.shape[2] || goal.shape[3] != reconstruction.shape[3])
                goal = nn.functional.adaptive_avg_pool2d(goal, [reconstruction.shape[2], reconstruction.shape[3]]);
            loss = loss + reconstructionWeight * nn.functional.binary_cross_entropy(reconstruction, goal);
        }
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// θ_ema ← m·θ_ema + (1−m)·θ_unit for every parameter of the EMA copy, matched by name; buffers are not touched.
    /// </summary>
    public void UpdateMomentumCopy(nn.Module unit, double momentum)
    {
        if (ema is null) return;
        using var noGrad = torch.no_grad();
        // m and 1 − m stay reachable until the loop ends: a scalar converted on the fly is owned by nothing once its
        // handle is passed to native code, and a collection on another thread can free it mid-call (RootedScalars).
        // Hundreds of such updates run every step, and a corrupted factor would turn the copy's weights into garbage.
        using var keep = momentum.ToScalar();
        using var take = (1 - momentum).ToScalar();
        var source = unit.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in ema.named_parameters())
        {
            if (!source.TryGetValue(name, out var q))
                throw new InvalidOperationException(
                    $"The EMA copy has parameter '{name}' that the unit it follows lacks: CreateLike must build the unit's architecture with the same names.");
            p.mul_(keep).add_(q, alpha: take);
        }
    }

    private static Tensor MinMax(Tensor x)
    {
        using var scope = NewDisposeScope();
        var flat = x.flatten(1);
        var lo = flat.amin([1L], keepdim: true);
        var hi = flat.amax([1L], keepdim: true);
        var scaled = ((flat - lo) / (hi - lo).clamp_min(1e-6)).reshape(x.shape);
        return scaled.MoveToOuterDisposeScope();
    }
}
