using Man.Local;
using Man.Local.Training;
using Man.Vision.Backbones.ResNets;
using Man.Vision.Segmentation.Inference;
using Man.Vision.Segmentation.Losses;
using Man.Vision.Segmentation.Models;

namespace Man.Vision.Segmentation.Training;

/// <summary>
/// Everything a segmentation run needs besides its data. The defaults are torchvision's / mmsegmentation's recipe where
/// it exists (SGD momentum 0.9, poly decay with power 0.9, random scale 0.5–2.0, crop, flip) scaled to a CPU budget
/// (ResNet-18, 256² crops).
/// </summary>
public sealed record SegmentationTrainOptions
{
    /// <summary>Backbone architecture (resnet18, resnet34, resnet50, resnet101, …).</summary>
    public string Arch { get; init; } = "resnet18";

    /// <summary>The main head.</summary>
    public SegmentationHeadKind Head { get; init; } = SegmentationHeadKind.DeepLabV3;

    /// <summary>torchvision's auxiliary FCN head on layer3 (loss weight 0.5).</summary>
    public bool AuxLoss { get; init; }

    /// <summary>
    /// Output stride of the backbone: 8 (layer3 and layer4 dilated), 16 (layer4 dilated) or 32 (plain); null picks 8 for
    /// bottleneck ResNets (torchvision's segmentation models) and 32 for basic-block ResNet-18/34, which cannot be dilated.
    /// </summary>
    public int? OutputStride { get; init; }

    /// <summary>The learning method.</summary>
    public LocalMethod Method { get; init; } = LocalMethod.ManPlusPlus;

    /// <summary>Number of local blocks (1 for e2e).</summary>
    public int K { get; init; } = 4;

    /// <summary>
    /// "balanced" (by activation memory of the crop), "uniform" (by unit count), "stages" (K = 4: stem+layer1 | layer2 |
    /// layer3 | layer4) or explicit block starts such as "0,4,8,14".
    /// </summary>
    public string Split { get; init; } = "balanced";

    /// <summary>Epochs to train.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Training images per batch.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Square training crop side (pixels, after random scaling).</summary>
    public int CropSize { get; init; } = 256;

    /// <summary>Smallest random scale factor of training images.</summary>
    public double MinScale { get; init; } = 0.5;

    /// <summary>Largest random scale factor of training images.</summary>
    public double MaxScale { get; init; } = 2.0;

    /// <summary>Photometric jitter on half of the training images (mmsegmentation's PhotoMetricDistortion, milder).</summary>
    public bool Jitter { get; init; } = true;

    /// <summary>Base learning rate.</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>SGD momentum.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Weight decay.</summary>
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>Exponent of the poly schedule lr·(1 − t/T)^power.</summary>
    public double PolyPower { get; init; } = 0.9;

    /// <summary>Linear warm-up steps before the poly decay.</summary>
    public long WarmupSteps { get; init; }

    /// <summary>
    /// Gradient clipping: each local block's gradients (all of them under e2e) scaled to at most this total 2-norm before
    /// the optimizer step; null (the default): none. See <see cref="Man.Local.Training.TrainerOptions.MaxGradNorm"/>.
    /// </summary>
    public double? ClipGradNorm { get; init; }

    /// <summary>EMA momentum of MAN/MAN++.</summary>
    public double EmaMomentum { get; init; } = 0.995;

    /// <summary>Width of the early blocks' auxiliary heads (null: <see cref="LocalLearning.SegmentationAuxiliaryHead.DefaultHiddenChannels"/>).</summary>
    public long? AuxiliaryHiddenChannels { get; init; }

    /// <summary>Label of ignored pixels.</summary>
    public long IgnoreIndex { get; init; } = PixelCrossEntropy.DefaultIgnoreIndex;

    /// <summary>Seed of initialisation, data order and augmentation.</summary>
    public long Seed { get; init; }

    /// <summary>Stop each epoch after this many batches (0: all); for smoke runs and benchmarks.</summary>
    public int MaxBatchesPerEpoch { get; init; }

    /// <summary>Evaluate every this many epochs (and always after the last); 0 never evaluates.</summary>
    public int EvalEvery { get; init; } = 1;

    /// <summary>
    /// Precise batch norm before every evaluation (detectron2's <c>TEST.PRECISE_BN</c>, <c>--precise-bn N</c>): the running
    /// statistics of the backbone's and the main head's batch-norm layers in training mode are recomputed as the average
    /// over up to N training batches (at most one pass; training transform, no gradient). 0 (the default): off.
    /// </summary>
    public int PreciseBnBatches { get; init; }

    /// <summary>Images per evaluation batch (padded to a common size when they differ; the padding is not scored).</summary>
    public int EvalBatchSize { get; init; } = 1;

    /// <summary>Sliding-window evaluation, or null for whole-image inference.</summary>
    public SlidingWindow? EvalWindow { get; init; }

    /// <summary>Data loading threads.</summary>
    public int Workers { get; init; } = 2;

    /// <summary>Backbone weights to start from (torchvision .pth, safetensors, …; the classifier <c>fc</c> is skipped), or null.</summary>
    public string? Pretrained { get; init; }

    /// <summary>detectron2's FREEZE_AT: 0 trains everything, 1 freezes the stem, k ≥ 2 the stem and layer1..layer(k−1).</summary>
    public int FreezeAt { get; init; }

    /// <summary>
    /// MAN/MAN++: start each early block's LB and EMA copies from the (pretrained) weights of the unit they copy instead of
    /// fresh initialisation (the reference code's choice); see <see cref="Man.Local.LocalLearningOptions.InitializeCopiesFromUnit"/>.
    /// </summary>
    public bool InitializeCopiesFromUnit { get; init; }

    /// <summary>The output stride used: <see cref="OutputStride"/> or the default of the architecture.</summary>
    public int EffectiveOutputStride => OutputStride ?? DefaultOutputStride(Arch);

    /// <summary>8 for bottleneck ResNets, 32 for basic-block ones (torchvision cannot dilate basic blocks).</summary>
    public static int DefaultOutputStride(string arch) => ResNetFactory.Options(arch).Block == BlockKind.Basic ? 32 : 8;

    /// <summary>Checks the values; throws with a message naming the bad one.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Arch)) throw new ArgumentException("--backbone must name an architecture.");
        if (!ResNetFactory.Architectures.Contains(Arch))
            throw new ArgumentException($"Unknown backbone '{Arch}'. Valid: {string.Join(", ", ResNetFactory.Architectures)}.");
        if (OutputStride is not null and not (8 or 16 or 32)) throw new ArgumentException($"--output-stride must be 8, 16 or 32 (got {OutputStride}).");
        if (K < 1) throw new ArgumentException($"--k must be at least 1 (got {K}).");
        if (Method == LocalMethod.E2E && K != 1) throw new ArgumentException($"Method e2e trains one block: use --k 1 (got {K}).");
        if (Method != LocalMethod.E2E && K < 2) throw new ArgumentException($"Method {Method.Name()} needs --k ≥ 2 (got {K}); use --method e2e for K = 1.");
        if (Epochs < 1) throw new ArgumentException($"--epochs must be at least 1 (got {Epochs}).");
        if (BatchSize < 1) throw new ArgumentException($"--batch-size must be at least 1 (got {BatchSize}).");
        if (EvalBatchSize < 1) throw new ArgumentException($"--eval-batch-size must be at least 1 (got {EvalBatchSize}).");
        if (CropSize < 32) throw new ArgumentException($"--crop must be at least 32 pixels (got {CropSize}).");
        if (!(MinScale > 0) || MaxScale < MinScale) throw new ArgumentException($"The scale range must satisfy 0 < min ≤ max (got {MinScale}..{MaxScale}).");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentException($"--lr must be positive (got {LearningRate}).");
        if (Momentum is < 0 or >= 1) throw new ArgumentException($"--momentum must lie in [0, 1) (got {Momentum}).");
        if (WeightDecay < 0) throw new ArgumentException($"--weight-decay must be non-negative (got {WeightDecay}).");
        if (!(PolyPower > 0)) throw new ArgumentException($"The poly power must be positive (got {PolyPower}).");
        TrainerOptions.CheckMaxGradNorm(ClipGradNorm, "--clip-grad-norm");
        if (WarmupSteps < 0) throw new ArgumentException($"--warmup-iters must be non-negative (got {WarmupSteps}).");
        if (EmaMomentum is < 0 or > 1) throw new ArgumentException($"--ema-momentum must lie in [0, 1] (got {EmaMomentum}).");
        if (MaxBatchesPerEpoch < 0) throw new ArgumentException($"--max-batches must be non-negative (got {MaxBatchesPerEpoch}).");
        if (PreciseBnBatches < 0) throw new ArgumentException($"--precise-bn must be 0 (off) or a number of batches (got {PreciseBnBatches}).");
        if (EvalEvery < 0) throw new ArgumentException($"--eval-every must be non-negative (got {EvalEvery}).");
        if (Workers < 1) throw new ArgumentException($"--workers must be at least 1 (got {Workers}).");
        if (FreezeAt < 0 || FreezeAt > 5) throw new ArgumentException($"--freeze-at must lie in 0..5 (got {FreezeAt}).");
        if (InitializeCopiesFromUnit && (Method is not (LocalMethod.Man or LocalMethod.ManPlusPlus) || K < 2))
            throw new ArgumentException($"--init-copies-from-unit applies to the LB and EMA copies of MAN and MAN++ with K ≥ 2; method {Method.Name()} with K = {K} has none.");
        if (Pretrained is not null && !File.Exists(Pretrained)) throw new FileNotFoundException($"Pretrained weights '{Pretrained}' do not exist.", Pretrained);
    }
}
