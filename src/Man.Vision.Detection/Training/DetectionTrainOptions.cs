using Man.Local;
using Man.Local.Training;
using Man.Vision.Backbones.ResNets;

namespace Man.Vision.Detection.Training;

/// <summary>The learning-rate schedule of a detection run.</summary>
public enum DetectionSchedule
{
    /// <summary>torchvision's reference: the base rate, divided by 10 at each milestone epoch (MultiStepLR, γ = 0.1).</summary>
    Step,

    /// <summary>Cosine decay from the base rate to 0 over the run.</summary>
    Cosine,
}

/// <summary>
/// Everything a detection run needs besides its data: a ResNet-FPN Faster R-CNN with torchvision's defaults except the
/// input size, trained end-to-end or with a local-learning method over the backbone's units, with torchvision's
/// detection recipe (SGD, momentum 0.9, weight decay 1e-4, lr 0.02 × batch / 16, linear warm-up, step decay).
/// </summary>
public sealed record DetectionTrainOptions
{
    /// <summary>The backbone: resnet18, resnet34, resnet50 or resnet101 (also resnet152, resnext50_32x4d, resnext101_32x8d).</summary>
    public string Backbone { get; init; } = "resnet50";

    /// <summary>The learning method.</summary>
    public LocalMethod Method { get; init; } = LocalMethod.ManPlusPlus;

    /// <summary>Number of local blocks (1 for e2e).</summary>
    public int K { get; init; } = 4;

    /// <summary>
    /// How the units are split into K blocks: "stages" (block boundaries at the starts of the last K−1 ResNet stages; for
    /// K = 4 stem+layer1 | layer2 | layer3 | layer4, the MAN++ COCO split), "balanced" (by activation memory at the
    /// input size), "uniform" (by unit count) or explicit block starts such as "0,4,8,14".
    /// </summary>
    public string Split { get; init; } = "stages";

    /// <summary>Epochs to train.</summary>
    public int Epochs { get; init; } = 12;

    /// <summary>Images per batch.</summary>
    public int BatchSize { get; init; } = 2;

    /// <summary>Base learning rate; null for torchvision's linear rule 0.02 × batch / 16.</summary>
    public double? LearningRate { get; init; }

    /// <summary>The rate actually used.</summary>
    public double EffectiveLearningRate => LearningRate ?? 0.02 * BatchSize / 16.0;

    /// <summary>SGD momentum (0.9).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Weight decay (1e-4).</summary>
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>Linear warm-up iterations; null for torchvision's min(1000, iterations of one epoch).</summary>
    public int? WarmupIterations { get; init; }

    /// <summary>The schedule after warm-up.</summary>
    public DetectionSchedule Schedule { get; init; } = DetectionSchedule.Step;

    /// <summary>Epochs at whose start the rate drops by <see cref="Gamma"/> (step schedule); null for torchvision's 16 and 22 of 26 epochs scaled to <see cref="Epochs"/>.</summary>
    public IReadOnlyList<int>? Milestones { get; init; }

    /// <summary>The step schedule's factor (0.1).</summary>
    public double Gamma { get; init; } = 0.1;

    /// <summary>Shorter image side after resizing (torchvision 800; CPU demos 256–320).</summary>
    public int MinSize { get; init; } = 800;

    /// <summary>Cap of the longer side (torchvision 1333).</summary>
    public int MaxSize { get; init; } = 1333;

    /// <summary>RoIs sampled per image for the box head's training losses (torchvision 512; the box head's cost scales with it).</summary>
    public int RoiSamplesPerImage { get; init; } = 512;

    /// <summary>Proposals kept per image after the RPN's NMS in training (torchvision 2000).</summary>
    public int RpnPostNmsTrain { get; init; } = 2000;

    /// <summary>Proposals kept per image in inference (torchvision 1000; the box head runs on all of them).</summary>
    public int RpnPostNmsTest { get; init; } = 1000;

    /// <summary>Auxiliary head of early blocks under local learning: "dense" (RetinaNet-style) or "rcnn" (one-level Faster R-CNN).</summary>
    public string AuxHead { get; init; } = "dense";

    /// <summary>The dense auxiliary head pools finer block features to this stride (16).</summary>
    public int AuxMinStride { get; init; } = 16;

    /// <summary>
    /// Learning-rate multiplier for the backbone units of the early blocks under local learning (1: the full rate).
    /// Their auxiliary networks and the last block keep the full rate, so new auxiliary heads learn at once while the
    /// features they train move slowly; 0 keeps the early blocks' weights (batch-norm statistics still follow the data).
    /// </summary>
    public double EarlyLrScale { get; init; } = 1.0;

    /// <summary>
    /// Under local learning, the 0-based epoch from which the early blocks' backbone units stop learning (counted as
    /// <see cref="Milestones"/>: 5 = after five epochs); null (the default) never. From then on those blocks run without
    /// a graph and without their auxiliary losses (<see cref="LocalLearner{TTarget}.FreezeBlock"/>), and only the last
    /// block (its backbone units, FPN, RPN and RoI heads) trains on the features they give.
    /// </summary>
    public int? FreezeEarlyAt { get; init; }

    /// <summary>
    /// Gradient clipping: each local block's gradients (all of them under e2e) scaled to at most this total 2-norm
    /// before the optimizer step, as detectron2's <c>SOLVER.CLIP_GRADIENTS</c> (type "norm"); null (the default, as
    /// torchvision's reference): none. See <see cref="Man.Local.Training.TrainerOptions.MaxGradNorm"/>.
    /// </summary>
    public double? ClipGradNorm { get; init; }

    /// <summary>
    /// MAN/MAN++: start each early block's LB and EMA copies from the (pretrained) weights of the unit they copy instead of
    /// fresh initialisation (the reference code's choice); see <see cref="LocalLearningOptions.InitializeCopiesFromUnit"/>.
    /// </summary>
    public bool InitializeCopiesFromUnit { get; init; }

    /// <summary>
    /// Precise batch norm before every evaluation (detectron2's <c>TEST.PRECISE_BN</c>, <c>--precise-bn N</c>): the running
    /// statistics of the backbone's trainable batch-norm layers are recomputed as the average over N training batches
    /// (at most one pass over the training split; training transforms, no gradient) instead of the momentum-0.1 average
    /// of the last steps, so that an epoch's evaluation and checkpoint do not depend on which few batches came last.
    /// 0 (the default, as torchvision): off. Has no effect with frozen batch norm.
    /// </summary>
    public int PreciseBnBatches { get; init; }

    /// <summary>
    /// The ResNet stages feeding the FPN (torchvision's <c>returned_layers</c>, <c>--returned-layers</c>); null for all of
    /// them, c2..c5. [2, 3, 4] builds the FPN over c3..c5 (RetinaNet's form), with anchors of 32..256 px on its four levels;
    /// the backbone ends with the last returned stage ([2, 3] builds no layer4).
    /// </summary>
    public IReadOnlyList<int>? ReturnedLayers { get; init; }

    /// <summary>
    /// Trainable backbone stages counted from layer4 (0..5); null for torchvision's choice: 3 with pretrained weights
    /// (stem and layer1 frozen), 5 from scratch.
    /// </summary>
    public int? TrainableLayers { get; init; }

    /// <summary>Backbone weights to start from (torchvision ResNet .pth/safetensors or our weights), or null for random initialisation.</summary>
    public string? Pretrained { get; init; }

    /// <summary>Horizontal flip (p = 0.5) in training, as torchvision's reference.</summary>
    public bool Flip { get; init; } = true;

    /// <summary>Photometric jitter (brightness/contrast/saturation 0.2 on half of the samples) in training.</summary>
    public bool Jitter { get; init; }

    /// <summary>EMA momentum of MAN/MAN++ (0.995).</summary>
    public double EmaMomentum { get; init; } = 0.995;

    /// <summary>Seed of initialisation, data order, augmentation and sampling.</summary>
    public long Seed { get; init; }

    /// <summary>Stop each epoch after this many batches (0: all); for smoke runs and benchmarks.</summary>
    public int MaxBatchesPerEpoch { get; init; }

    /// <summary>Evaluate only the first N validation images per epoch (0: all).</summary>
    public int MaxEvalImages { get; init; }

    /// <summary>Data loading threads.</summary>
    public int Workers { get; init; } = 2;

    /// <summary>True when the backbone starts from pretrained weights (torchvision then uses frozen batch norm).</summary>
    public bool IsPretrained => Pretrained is not null;

    /// <summary>
    /// Frozen batch norm in the backbone (detectron2's FrozenBN); null for torchvision's choice: frozen with pretrained
    /// weights, trainable batch norm from scratch. Set false to fine-tune the statistics and affine parameters too
    /// (weights pretrained on other image sizes, e.g. CIFAR-10).
    /// </summary>
    public bool? FrozenBatchNorm { get; init; }

    /// <summary>The batch norm kind the run uses (<see cref="FrozenBatchNorm"/> or its default).</summary>
    public bool EffectiveFrozenBatchNorm => FrozenBatchNorm ?? IsPretrained;

    /// <summary>The trainable stages actually used.</summary>
    public int EffectiveTrainableLayers => TrainableLayers ?? (IsPretrained ? 3 : 5);

    /// <summary>The milestones actually used by the step schedule.</summary>
    public IReadOnlyList<int> EffectiveMilestones => Milestones ??
        new[] { (int)Math.Round(Epochs * 16 / 26.0), (int)Math.Round(Epochs * 22 / 26.0) }.Where(m => m > 0 && m < Epochs).Distinct().ToArray();

    /// <summary>Checks the values; throws with a message naming the bad one.</summary>
    public DetectionTrainOptions Validate()
    {
        if (!ResNetFactory.Architectures.Contains(Backbone, StringComparer.OrdinalIgnoreCase) || Backbone.StartsWith("resnet32", StringComparison.OrdinalIgnoreCase)
            || Backbone.StartsWith("resnet110", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"Unknown detection backbone '{Backbone}'. Valid: resnet18, resnet34, resnet50, resnet101, resnet152, resnext50_32x4d, resnext101_32x8d.");
        if (Method == LocalMethod.InfoPro)
            throw new ArgumentException("Method infopro reconstructs a fixed-size input and does not apply to detection's variable image sizes; use e2e, greedy, man or manpp.");
        if (K < 1) throw new ArgumentException($"--k must be at least 1 (got {K}).");
        if (Method == LocalMethod.E2E && K != 1) throw new ArgumentException($"Method e2e trains one block: use --k 1 (got {K}).");
        if (Method != LocalMethod.E2E && K < 2) throw new ArgumentException($"Method {Method.Name()} needs --k ≥ 2 (got {K}); use --method e2e for K = 1.");
        if (Epochs < 1) throw new ArgumentException($"--epochs must be at least 1 (got {Epochs}).");
        if (BatchSize < 1) throw new ArgumentException($"--batch-size must be at least 1 (got {BatchSize}).");
        if (LearningRate is double lr && !(lr > 0 && double.IsFinite(lr))) throw new ArgumentException($"--lr must be positive (got {lr}).");
        if (Momentum is < 0 or >= 1) throw new ArgumentException($"--momentum must lie in [0, 1) (got {Momentum}).");
        if (!(WeightDecay >= 0)) throw new ArgumentException($"--weight-decay must be non-negative (got {WeightDecay}).");
        if (WarmupIterations is < 0) throw new ArgumentException($"--warmup-iters must be non-negative (got {WarmupIterations}).");
        if (!(Gamma > 0 && Gamma <= 1)) throw new ArgumentException($"--gamma must lie in (0, 1] (got {Gamma}).");
        if (Milestones is not null)
        {
            for (int i = 0; i < Milestones.Count; i++)
            {
                if (Milestones[i] < 1 || Milestones[i] > Epochs)
                    throw new ArgumentException($"Milestone {Milestones[i]} lies outside 1..{Epochs} (epochs).");
                if (i > 0 && Milestones[i] <= Milestones[i - 1])
                    throw new ArgumentException($"Milestones must increase: [{string.Join(", ", Milestones)}].");
            }
        }
        if (MinSize < 32) throw new ArgumentException($"--min-size must be at least 32 (got {MinSize}).");
        if (MaxSize < MinSize) throw new ArgumentException($"--max-size ({MaxSize}) must be at least --min-size ({MinSize}).");
        if (PreciseBnBatches < 0) throw new ArgumentException($"--precise-bn must be 0 (off) or a number of batches (got {PreciseBnBatches}).");
        if (AuxMinStride < 1) throw new ArgumentException($"--aux-min-stride must be positive (got {AuxMinStride}).");
        LocalLearning.AuxHeadOptions.Parse(AuxHead, AuxMinStride);
        TrainerOptions.CheckMaxGradNorm(ClipGradNorm, "--clip-grad-norm");
        if (!(EarlyLrScale >= 0 && double.IsFinite(EarlyLrScale))) throw new ArgumentException($"--early-lr-scale must be a finite non-negative number (got {EarlyLrScale}).");
        if (EarlyLrScale != 1.0 && (Method == LocalMethod.E2E || K < 2))
            throw new ArgumentException($"--early-lr-scale {EarlyLrScale} applies to the early blocks of local learning; method {Method.Name()} with K = {K} has none.");
        if (FreezeEarlyAt is int freeze && (freeze < 1 || freeze >= Epochs))
            throw new ArgumentException($"--freeze-early-at must lie in 1..{Epochs - 1} (an epoch index within the run, as --milestones; got {freeze}).");
        if (FreezeEarlyAt is not null && (Method == LocalMethod.E2E || K < 2))
            throw new ArgumentException($"--freeze-early-at applies to the early blocks of local learning; method {Method.Name()} with K = {K} has none.");
        if (InitializeCopiesFromUnit && (Method is not (LocalMethod.Man or LocalMethod.ManPlusPlus) || K < 2))
            throw new ArgumentException($"--init-copies-from-unit applies to the LB and EMA copies of MAN and MAN++ with K ≥ 2; method {Method.Name()} with K = {K} has none.");
        if (ReturnedLayers is not null) DetectionModelConfig.CheckReturnedLayers(ReturnedLayers);
        if (RoiSamplesPerImage < 1) throw new ArgumentException($"--roi-samples must be positive (got {RoiSamplesPerImage}).");
        if (RpnPostNmsTrain < 1 || RpnPostNmsTest < 1) throw new ArgumentException($"--rpn-post-nms-train/--rpn-post-nms-test must be positive (got {RpnPostNmsTrain}/{RpnPostNmsTest}).");
        if (TrainableLayers is < 0 or > 5) throw new ArgumentException($"--trainable-layers must lie in 0..5 (got {TrainableLayers}).");
        if (Pretrained is not null && !File.Exists(Pretrained)) throw new FileNotFoundException($"The pretrained weights file {Pretrained} does not exist.", Pretrained);
        if (!(EmaMomentum >= 0 && EmaMomentum < 1)) throw new ArgumentException($"--ema-momentum must lie in [0, 1) (got {EmaMomentum}).");
        if (MaxBatchesPerEpoch < 0) throw new ArgumentException($"--max-batches must be non-negative (got {MaxBatchesPerEpoch}).");
        if (MaxEvalImages < 0) throw new ArgumentException($"--max-eval-images must be non-negative (got {MaxEvalImages}).");
        if (Workers is < 1 or > 64) throw new ArgumentException($"--workers must lie in 1..64 (got {Workers}).");
        return this;
    }
}
