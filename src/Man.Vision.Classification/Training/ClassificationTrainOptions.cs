using Man.Local;
using Man.Local.Training;

namespace Man.Vision.Classification.Training;

/// <summary>Everything a classification run needs besides its data.</summary>
public sealed record ClassificationTrainOptions
{
    /// <summary>Architecture name (resnet32, resnet110, resnet18, …).</summary>
    public string Arch { get; init; } = "resnet32";

    /// <summary>The learning method.</summary>
    public LocalMethod Method { get; init; } = LocalMethod.ManPlusPlus;

    /// <summary>Number of local blocks (1 for e2e).</summary>
    public int K { get; init; } = 8;

    /// <summary>"balanced" (by activation memory), "uniform" (by unit count) or explicit block starts "0,3,7".</summary>
    public string Split { get; init; } = "balanced";

    /// <summary>Epochs to train.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Base learning rate.</summary>
    public double LearningRate { get; init; } = 0.1;

    /// <summary>Warm-up epochs (linear).</summary>
    public double WarmupEpochs { get; init; }

    /// <summary>Weight decay.</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Optimizer.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;

    /// <summary>EMA momentum of MAN/MAN++.</summary>
    public double EmaMomentum { get; init; } = 0.995;

    /// <summary>Seed of initialisation, data order and augmentation.</summary>
    public long Seed { get; init; }

    /// <summary>Stop each epoch after this many batches (0: all); for smoke runs and benchmarks.</summary>
    public int MaxBatchesPerEpoch { get; init; }

    /// <summary>Backbone weights to start from (torchvision .pth/.safetensors or a Man.Vision checkpoint), or null.</summary>
    public string? Pretrained { get; init; }

    /// <summary>Fail when the pretrained file has missing, unexpected or mismatched keys.</summary>
    public bool StrictPretrained { get; init; }

    /// <summary>Freeze the stem (1) and the first N−1 stages (detectron2's FREEZE_AT); 0 trains everything.</summary>
    public int FreezeAt { get; init; }

    /// <summary>Learning-rate multiplier of the backbone relative to the heads (1 = same rate).</summary>
    public double BackboneLrScale { get; init; } = 1.0;

    /// <summary>Recompute early blocks to lower peak memory (see <see cref="Man.Local.LocalLearningOptions.RecomputeBlocks"/>).</summary>
    public bool RecomputeBlocks { get; init; }

    /// <summary>
    /// With <see cref="RecomputeBlocks"/> and the balanced split: the relative memory above the smallest bound a block
    /// may use and keep its graph (<see cref="ClassificationModel.RecomputeSlack"/>; 0 recomputes as much as lowers the peak).
    /// </summary>
    public double RecomputeSlack { get; init; } = ClassificationModel.RecomputeSlack;

    /// <summary>
    /// MAN/MAN++: start LB and EMA from the weights of the unit they copy instead of a fresh initialisation
    /// (see <see cref="Man.Local.LocalLearningOptions.InitializeCopiesFromUnit"/>).
    /// </summary>
    public bool InitializeCopiesFromUnit { get; init; }

    /// <summary>
    /// Gradient clipping: each local block's gradients (all of them under e2e) scaled to at most this total 2-norm before
    /// the optimizer step; null (the default): none. See <see cref="Man.Local.Training.TrainerOptions.MaxGradNorm"/>.
    /// </summary>
    public double? ClipGradNorm { get; init; }

    /// <summary>Step the optimizer after every block and free its gradients at once (see <see cref="Man.Local.Training.TrainerOptions.StepEachBlock"/>).</summary>
    public bool StepEachBlock { get; init; }

    /// <summary>Checks the values; throws with a message naming the bad one.</summary>
    public void Validate()
    {
        if (K < 1) throw new ArgumentException($"--k must be at least 1 (got {K}).");
        if (!(RecomputeSlack >= 0)) throw new ArgumentException($"--recompute-slack must be a non-negative fraction (got {RecomputeSlack}).");
        if (Method == LocalMethod.E2E && K != 1) throw new ArgumentException($"Method e2e trains one block: use --k 1 (got {K}).");
        if (Method != LocalMethod.E2E && K < 2) throw new ArgumentException($"Method {Method.Name()} needs --k ≥ 2 (got {K}); use --method e2e for K = 1.");
        if (Epochs < 1) throw new ArgumentException($"--epochs must be at least 1 (got {Epochs}).");
        if (!(LearningRate > 0)) throw new ArgumentException($"--lr must be positive (got {LearningRate}).");
        if (FreezeAt < 0) throw new ArgumentException($"--freeze-at must be non-negative (got {FreezeAt}).");
        TrainerOptions.CheckMaxGradNorm(ClipGradNorm, "--clip-grad-norm");
        if (BackboneLrScale < 0 || double.IsNaN(BackboneLrScale)) throw new ArgumentException($"--backbone-lr-scale must be non-negative (got {BackboneLrScale}).");
        if (Pretrained is not null && !File.Exists(Pretrained)) throw new FileNotFoundException($"--pretrained: no such file '{Pretrained}'.", Pretrained);
        if (WarmupEpochs < 0 || WarmupEpochs > Epochs) throw new ArgumentException($"--warmup-epochs must lie in [0, epochs] (got {WarmupEpochs}).");
        if (InitializeCopiesFromUnit && Method is not (LocalMethod.Man or LocalMethod.ManPlusPlus))
            throw new ArgumentException($"--init-copies-from-unit concerns MAN/MAN++'s LB and EMA copies; method {Method.Name()} has none.");
    }
}
