using static TorchSharp.torch;

namespace Man.Local;

/// <summary>Options of the local-learning engine; the defaults are those of the official MAN++ code.</summary>
public sealed record LocalLearningOptions
{
    /// <summary>The method every early block learns with.</summary>
    public LocalMethod Method { get; init; } = LocalMethod.ManPlusPlus;

    /// <summary>EMA momentum m in θ_ema ← m·θ_ema + (1−m)·θ_unit (updated every step, parameters only).</summary>
    public double EmaMomentum { get; init; } = 0.995;

    /// <summary>Initial value of MAN++'s learnable fusion scalar s.</summary>
    public double InitialS { get; init; } = 1.0;

    /// <summary>
    /// Keep s in [0, 2] after every optimizer step (projected gradient; true by default), so that both branch weights
    /// s and 2 − s stay non-negative. Unconstrained, s is one scalar whose gradient sums over a whole feature map; on
    /// detection features it was measured leaving the range (1.95 → 2.15 → −0.75 → −5.86 within a few steps of the synthetic
    /// schedule), turning the fusion into an extrapolation such as −5.9·LB + 7.9·EMA, after which every block's loss rose.
    /// </summary>
    public bool ClampS { get; init; } = true;

    /// <summary>
    /// Recompute each early block instead of keeping its graph through the auxiliary pass (false by default). The block
    /// first runs without a graph; its auxiliary network's forward and backward then give the gradient of the block
    /// output; the block runs again with a graph and back-propagates that gradient. Inside the auxiliary pass the EMA
    /// branch (MAN/MAN++) enters the fusion as a leaf and is back-propagated by a second EMA pass of its own. Peak memory
    /// becomes the largest of the block's, the LB branch's and the EMA branch's activations instead of their sum, for one
    /// more forward pass of every recomputed block (and of its EMA copy). Gradients, outputs, batch-norm statistics and
    /// random draws are those of the plain step.
    /// </summary>
    public bool RecomputeBlocks { get; init; }

    /// <summary>
    /// Recompute only these early blocks (0-based; the last block has no auxiliary pass and is never recomputed), as
    /// <see cref="SplitPlan.BalancedWithRecompute"/> chooses them; null leaves the choice to <see cref="RecomputeBlocks"/>.
    /// </summary>
    public IReadOnlyList<int>? RecomputedBlocks { get; init; }

    /// <summary>Whether early block <paramref name="block"/> of <paramref name="k"/> is recomputed.</summary>
    public bool Recomputes(int block, int k) => block + 1 < k && (RecomputeBlocks || (RecomputedBlocks?.Contains(block) ?? false));

    /// <summary>
    /// The recomputed blocks whose auxiliary pass cuts the EMA branch out of its graph (MAN/MAN++): EMA(h) enters the
    /// fusion as a leaf and is back-propagated afterwards by a second EMA pass of its own, so that the LB and EMA
    /// branches' graphs are never alive together, for one more forward pass of the EMA copy. Null (the default) cuts it in
    /// every recomputed block; <see cref="SplitPlan.MomentumCuts"/> names only the blocks whose uncut auxiliary pass
    /// would rise above the plan's peak, so that blocks whose peak is their own graph do not pay for the cut.
    /// </summary>
    public IReadOnlyList<int>? MomentumCutBlocks { get; init; }

    /// <summary>Whether the auxiliary pass of early block <paramref name="block"/> of <paramref name="k"/> cuts the EMA branch (only recomputed blocks do).</summary>
    public bool CutsMomentum(int block, int k) => Recomputes(block, k) && (MomentumCutBlocks?.Contains(block) ?? true);

    /// <summary>
    /// Start LB and EMA from the current weights of the unit they copy (true) instead of fresh initialisation
    /// (false, as the reference code).
    /// </summary>
    public bool InitializeCopiesFromUnit { get; init; }

    /// <summary>InfoPro: weight λ of the reconstruction loss added to the auxiliary task loss.</summary>
    public double ReconstructionWeight { get; init; } = 1.0;

    /// <summary>
    /// InfoPro: maps the model input to the reconstruction target in [0, 1]. Default: each sample scaled by its
    /// own minimum and maximum.
    /// </summary>
    public Func<Tensor, Tensor>? ReconstructionTarget { get; init; }

    /// <summary>Checks every option; throws with a message naming the bad one.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Method)) throw new ArgumentException($"Unknown method {Method}.");
        if (EmaMomentum is < 0 or > 1 || double.IsNaN(EmaMomentum))
            throw new ArgumentException($"EmaMomentum must lie in [0, 1] (got {EmaMomentum}).");
        if (InitialS is < 0 or > 2 || double.IsNaN(InitialS))
            throw new ArgumentException($"InitialS must lie in [0, 2] (got {InitialS}).");
        if (ReconstructionWeight < 0 || double.IsNaN(ReconstructionWeight))
            throw new ArgumentException($"ReconstructionWeight must be non-negative (got {ReconstructionWeight}).");
        if (RecomputedBlocks is not null && RecomputedBlocks.Any(b => b < 0))
            throw new ArgumentException($"RecomputedBlocks must be block indices ≥ 0 (got {string.Join(", ", RecomputedBlocks)}).");
        if (MomentumCutBlocks is not null && MomentumCutBlocks.Any(b => b < 0))
            throw new ArgumentException($"MomentumCutBlocks must be block indices ≥ 0 (got {string.Join(", ", MomentumCutBlocks)}).");
    }
}
