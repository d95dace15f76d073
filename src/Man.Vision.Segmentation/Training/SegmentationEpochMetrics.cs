using Newtonsoft.Json;

namespace Man.Vision.Segmentation.Training;

/// <summary>What one epoch of a segmentation run gave (one entry of <c>metrics.json</c>'s <c>epochs</c>).</summary>
public sealed record SegmentationEpochMetrics
{
    /// <summary>The epoch (0-based).</summary>
    [JsonProperty("epoch")] public int Epoch { get; init; }

    /// <summary>Mean training loss of each block (the last block's is its named losses' sum).</summary>
    [JsonProperty("train_loss_per_block")] public double[] TrainLossPerBlock { get; init; } = [];

    /// <summary>Mean of the main head's named losses ("out", "aux").</summary>
    [JsonProperty("train_losses")] public Dictionary<string, double> TrainLosses { get; init; } = [];

    /// <summary>MAN++'s s per early block at the end of the epoch.</summary>
    [JsonProperty("s")] public double?[] S { get; init; } = [];

    /// <summary>mIoU (percent) on the evaluation split, or null when not evaluated.</summary>
    [JsonProperty("mIoU")] public double? MIoU { get; init; }

    /// <summary>Overall pixel accuracy (percent), or null.</summary>
    [JsonProperty("aAcc")] public double? AAcc { get; init; }

    /// <summary>Mean class accuracy (percent), or null.</summary>
    [JsonProperty("mAcc")] public double? MAcc { get; init; }

    /// <summary>IoU per class name (percent; null where undefined).</summary>
    [JsonProperty("IoU")] public Dictionary<string, double?>? IoU { get; init; }

    /// <summary>Accuracy per class name (percent; null where undefined).</summary>
    [JsonProperty("Acc")] public Dictionary<string, double?>? Acc { get; init; }

    /// <summary>Median time of a training step in milliseconds.</summary>
    [JsonProperty("step_time_ms_median")] public double StepTimeMsMedian { get; init; }

    /// <summary>
    /// With <c>--clip-grad-norm</c>: each block's median gradient norm over the epoch's steps, before clipping (null without
    /// clipping).
    /// </summary>
    [JsonProperty("grad_norm_median_per_block")] public double[]? GradNormMedianPerBlock { get; init; }

    /// <summary>With <c>--clip-grad-norm</c>: how many of the epoch's steps clipped each block's gradients (null without clipping).</summary>
    [JsonProperty("clipped_steps_per_block")] public int[]? ClippedStepsPerBlock { get; init; }

    /// <summary>Training images per second over the epoch (data waits included).</summary>
    [JsonProperty("images_per_second")] public double ImagesPerSecond { get; init; }

    /// <summary>Peak resident memory of the process so far (MiB, VmHWM).</summary>
    [JsonProperty("peak_rss_mib")] public double PeakRssMiB { get; init; }

    /// <summary>Learning rate at the end of the epoch.</summary>
    [JsonProperty("lr")] public double LearningRate { get; init; }

    /// <summary>Seconds of training in the epoch.</summary>
    [JsonProperty("train_seconds")] public double TrainSeconds { get; init; }

    /// <summary>Seconds of evaluation after the epoch.</summary>
    [JsonProperty("eval_seconds")] public double EvalSeconds { get; init; }

    /// <summary>With <c>--precise-bn</c>: the training batches the batch-norm statistics were recomputed over before the evaluation (0: not recomputed).</summary>
    [JsonProperty("precise_bn_batches")] public int PreciseBnBatches { get; init; }
}
