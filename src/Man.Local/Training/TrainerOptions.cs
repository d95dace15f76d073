namespace Man.Local.Training;

/// <summary>The optimizer of a run.</summary>
public enum OptimizerKind
{
    /// <summary>SGD with momentum (Nesterov by default).</summary>
    Sgd,

    /// <summary>AdamW.</summary>
    AdamW,
}

/// <summary>Options of <see cref="LocalTrainer{TTarget}"/>: one optimizer over every trainable parameter.</summary>
public sealed record TrainerOptions
{
    /// <summary>The optimizer.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;

    /// <summary>The learning-rate schedule (its base rate is the optimizer's rate).</summary>
    public LearningRateSchedule Schedule { get; init; } = new();

    /// <summary>SGD momentum.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Nesterov momentum for SGD.</summary>
    public bool Nesterov { get; init; } = true;

    /// <summary>Weight decay.</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>
    /// Learning-rate multiplier by parameter name (names as in the learner: <c>model.*</c>, <c>aux.*</c>,
    /// <c>head.*</c>); null gives every parameter the full rate. Used, e.g., for a lower backbone rate when
    /// fine-tuning.
    /// </summary>
    public Func<string, double>? LrScaleByName { get; init; }

    /// <summary>
    /// Step the optimizer after every block's backward pass and drop that block's gradients at once, instead of one
    /// step after the last block (false by default). A block's parameters are not used again in the same training step
    /// (the next block's input is detached, and an EMA copy follows the first unit of the block after it, which has
    /// not stepped yet), so SGD and AdamW make exactly the updates of the single step; only the gradients of the block
    /// that runs are ever alive. If a block's loss is not finite, the blocks before it have already been updated.
    /// </summary>
    public bool StepEachBlock { get; init; }

    /// <summary>
    /// Gradient clipping by norm, per local block (null: none, as torchvision's detection reference). After each
    /// block's backward pass the gradients it produced (its units' and its auxiliary network's, or for the last block
    /// its units' and the main head's) are scaled as <c>torch.nn.utils.clip_grad_norm_</c> does to a total 2-norm of
    /// at most this value, before any optimizer step. With K = 1 (e2e) that is PyTorch's and detectron2's clipping of
    /// the whole model; with K &gt; 1 no block's clipping depends on another block's gradients, so the blocks stay local.
    /// </summary>
    public double? MaxGradNorm { get; init; }

    /// <summary>The run's seed (saved in checkpoints).</summary>
    public long Seed { get; init; }

    /// <summary>Checks the values; throws with a message naming the bad one.</summary>
    public void Validate()
    {
        Schedule.Validate();
        if (Momentum is < 0 or >= 1) throw new ArgumentException($"Momentum must lie in [0, 1) (got {Momentum}).");
        if (WeightDecay < 0) throw new ArgumentException($"WeightDecay must be non-negative (got {WeightDecay}).");
        CheckMaxGradNorm(MaxGradNorm, "MaxGradNorm (gradient clipping)");
    }

    /// <summary>Throws unless a clipping bound is null (no clipping) or a positive finite norm; the message names it as <paramref name="name"/>.</summary>
    public static void CheckMaxGradNorm(double? value, string name)
    {
        if (value is double c && !(c > 0 && double.IsFinite(c)))
            throw new ArgumentException($"{name} must be a positive finite norm (got {c}).");
    }
}
