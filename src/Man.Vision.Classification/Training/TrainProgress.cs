namespace Man.Vision.Classification.Training;

/// <summary>A progress report of a running training, for live display.</summary>
/// <param name="Epoch">Current epoch (0-based).</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="ImagesPerSecond">Training throughput over the epoch so far.</param>
/// <param name="Eta">Estimated time to the end of the run.</param>
/// <param name="BlockLosses">Running mean loss of each block over the epoch.</param>
/// <param name="S">MAN++'s s per early block (NaN where the method has none).</param>
/// <param name="LearningRate">The current learning rate.</param>
public sealed record TrainProgress(int Epoch, int Epochs, int Batch, int Batches, double ImagesPerSecond, TimeSpan Eta,
    double[] BlockLosses, double[] S, double LearningRate);

/// <summary>What one epoch gave.</summary>
public sealed record EpochMetrics
{
    public int Epoch { get; init; }
    public double[] TrainLossPerBlock { get; init; } = [];
    public double[] S { get; init; } = [];
    public double? TestAccuracy { get; init; }
    public double? TestLoss { get; init; }
    /// <summary>Top-1 accuracy in % on the (augmented) training batches of the epoch, as the model was while it trained.</summary>
    public double TrainAccuracy { get; init; }
    public double StepTimeMsMedian { get; init; }
    public double ImagesPerSecond { get; init; }
    public double PeakRssMiB { get; init; }
    public double LearningRate { get; init; }
    public double Seconds { get; init; }

    /// <summary>
    /// With <c>--clip-grad-norm</c>: each block's median gradient norm over the epoch's steps, before clipping (null without
    /// clipping).
    /// </summary>
    public double[]? GradNormMedianPerBlock { get; init; }

    /// <summary>With <c>--clip-grad-norm</c>: how many of the epoch's steps clipped each block's gradients (null without clipping).</summary>
    public int[]? ClippedStepsPerBlock { get; init; }
}

/// <summary>Accuracy and loss of a model on a data set.</summary>
public sealed record EvaluationResult(double Accuracy, double Loss, int Samples, double[] PerClassAccuracy, IReadOnlyList<string> Classes);
