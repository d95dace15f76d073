namespace Man.Vision.Detection.Training;

/// <summary>A progress report of a running detection training, for live display.</summary>
/// <param name="Epoch">Current epoch (0-based).</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="ImagesPerSecond">Training throughput over the epoch so far.</param>
/// <param name="Eta">Estimated time to the end of the training steps (evaluations not included).</param>
/// <param name="BlockLosses">Running mean loss of each block over the epoch (the last is the sum of the four detector losses).</param>
/// <param name="S">MAN++'s s per early block (NaN where the method has none).</param>
/// <param name="LearningRate">The current learning rate.</param>
public sealed record DetectionTrainProgress(int Epoch, int Epochs, int Batch, int Batches, double ImagesPerSecond, TimeSpan Eta,
    double[] BlockLosses, double[] S, double LearningRate);

/// <summary>What one epoch of detection training gave (one entry of <c>metrics.json</c>).</summary>
public sealed record DetectionEpochMetrics
{
    /// <summary>The epoch (0-based).</summary>
    public int Epoch { get; init; }

    /// <summary>Mean loss of each block over the epoch; the last block's is the sum of the detector's four losses.</summary>
    public double[] TrainLossPerBlock { get; init; } = [];

    /// <summary>Mean of torchvision's named losses over the epoch (loss_classifier, loss_box_reg, loss_objectness, loss_rpn_box_reg).</summary>
    public Dictionary<string, double> Losses { get; init; } = [];

    /// <summary>MAN++'s s per early block at the end of the epoch.</summary>
    public double[] S { get; init; } = [];

    /// <summary>pycocotools' 12 numbers on the evaluation split (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl).</summary>
    public Dictionary<string, double> Coco { get; init; } = [];

    /// <summary>VOC AP50 (VOC2010+ area, mean over classes) for VOC data, else null.</summary>
    public double? VocAp50 { get; init; }

    /// <summary>VOC07 11-point AP50 for VOC data, else null.</summary>
    public double? VocAp50Voc07 { get; init; }

    /// <summary>Images evaluated.</summary>
    public int EvalImages { get; init; }

    /// <summary>Training steps of the epoch.</summary>
    public int Steps { get; init; }

    /// <summary>Median wall time of a training step (ms).</summary>
    public double StepTimeMsMedian { get; init; }

    /// <summary>Training images per second over the epoch.</summary>
    public double ImagesPerSecond { get; init; }

    /// <summary>Peak resident memory of the process so far (MiB).</summary>
    public double PeakRssMiB { get; init; }

    /// <summary>Learning rate at the end of the epoch.</summary>
    public double LearningRate { get; init; }

    /// <summary>Wall time of the training part of the epoch (s).</summary>
    public double Seconds { get; init; }

    /// <summary>Wall time of the evaluation (s).</summary>
    public double EvalSeconds { get; init; }

    /// <summary>Samples left out as bad input during the epoch (under <c>--on-bad skip</c>).</summary>
    public int SkippedSamples { get; init; }

    /// <summary>With <c>--precise-bn</c>: the training batches the batch-norm statistics were recomputed over before the evaluation (0: not recomputed).</summary>
    public int PreciseBnBatches { get; init; }

    /// <summary>With <c>--precise-bn</c>: wall time of the recomputation (s); null without it.</summary>
    public double? PreciseBnSeconds { get; init; }

    /// <summary>
    /// With <c>--clip-grad-norm</c>: each block's median gradient norm over the epoch's steps, before clipping (null without
    /// clipping). Shows how far the bound is from a typical step.
    /// </summary>
    public double[]? GradNormMedianPerBlock { get; init; }

    /// <summary>With <c>--clip-grad-norm</c>: how many of the epoch's steps clipped each block's gradients (null without clipping).</summary>
    public int[]? ClippedStepsPerBlock { get; init; }
}
