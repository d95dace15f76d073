using System.Diagnostics;
using Man.Local;
using Man.Local.Training;
using Man.Runtime;
using Man.Vision.Backbones.Norm;
using Man.Vision.Data.Batching;
using Man.Vision.Data.DetectionTransforms;
using Man.Vision.Data.Loading;
using Man.Vision.Data.Segmentation;
using Man.Vision.Segmentation.Evaluation;
using Man.Vision.Segmentation.Inference;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Training;

/// <summary>
/// Trains a semantic segmenter epoch by epoch with the local-learning engine (SGD with momentum, poly learning rate, random
/// scale/crop/flip augmentation), evaluates it with <see cref="IoUMetric"/> after every epoch, and writes <c>metrics.json</c>
/// and checkpoints (<c>last.ckpt</c>, <c>best.ckpt</c> by mIoU) into the run folder. A run resumes from <c>last.ckpt</c> of its
/// folder and continues exactly where it stopped (same batches, same augmentation, same losses).
/// </summary>
public sealed class SegmentationRunner
{
    /// <summary>Name of the checkpoint written after every epoch.</summary>
    public const string LastCheckpoint = "last.ckpt";

    /// <summary>Name of the checkpoint of the best mIoU.</summary>
    public const string BestCheckpoint = "best.ckpt";


    /// <summary>Name of the metrics file.</summary>
    public const string MetricsFile = "metrics.json";

    /// <summary>Receives one-line messages (pretrained weights report, resume point, split); null for none.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Trains; returns the per-epoch metrics of the whole run (resumed epochs included).</summary>
    /// <param name="options">Run options.</param>
    /// <param name="data">Training and evaluation splits.</param>
    /// <param name="runDir">Run folder for metrics and checkpoints.</param>
    /// <param name="resume">Continue from <c>runDir/last.ckpt</c> when it exists.</param>
    /// <param name="device">Compute device.</param>
    /// <param name="progress">Live progress, or null.</param>
    /// <param name="cancellationToken">Stops between steps; the last epoch checkpoint stays.</param>
    /// <exception cref="NonFiniteLossException">A loss became NaN/∞: metrics so far are written (flagged), the last good checkpoint kept.</exception>
    public IReadOnlyList<SegmentationEpochMetrics> Train(SegmentationTrainOptions options, SegmentationDataSource data, string runDir, bool resume,
        Device device, IProgress<SegmentationTrainProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        if (data.Val.NumClasses != data.NumClasses)
            throw new ArgumentException($"The training split has {data.NumClasses} classes but the evaluation split {data.Val.NumClasses}.");
        if (data.Train.Samples.Count < options.BatchSize)
            throw new ArgumentException($"The training split {data.Train.Name} has {data.Train.Samples.Count} images, fewer than one batch of {options.BatchSize}.");
        Directory.CreateDirectory(runDir);
        using var segmenter = Segmenter.Create(options, data.Classes, device);
        if (segmenter.PretrainedReport is { } report) Log?.Invoke(report.ToString() ?? "");
        Log?.Invoke($"split {segmenter.Learner.Plan} ({string.Join(" | ", segmenter.BlockNames())}), output stride {segmenter.Options.EffectiveOutputStride}");

        var loader = DataLoaders.Segmentation(
            new SegmentationMapper(data.Train, SegmentationCompose.Train(options.CropSize, options.CropSize, options.MinScale, options.MaxScale, options.Jitter)),
            new LoaderOptions { BatchSize = options.BatchSize, Shuffle = true, DropLast = true, Seed = options.Seed, Workers = options.Workers },
            divisor: 1);
        int batches = options.MaxBatchesPerEpoch > 0 ? Math.Min(options.MaxBatchesPerEpoch, loader.BatchesPerEpoch) : loader.BatchesPerEpoch;
        long total = (long)batches * options.Epochs;
        var trainerOptions = new TrainerOptions
        {
            Optimizer = OptimizerKind.Sgd,
            Momentum = options.Momentum,
            Nesterov = false,
            WeightDecay = options.WeightDecay,
            Schedule = new LearningRateSchedule
            {
                Kind = ScheduleKind.Poly, BaseLr = options.LearningRate, TotalSteps = total, Power = options.PolyPower,
                WarmupSteps = Math.Min(options.WarmupSteps, total),
            },
            Seed = options.Seed,
            MaxGradNorm = options.ClipGradNorm,
        };
        using var trainer = new LocalTrainer<Tensor>(segmenter.Learner, trainerOptions);
        var meta = segmenter.Meta(data.Spec);
        string last = Path.Combine(runDir, LastCheckpoint);
        string metricsPath = Path.Combine(runDir, MetricsFile);
        var history = new List<SegmentationEpochMetrics>();
        if (resume && File.Exists(last))
        {
            trainer.Load(last);
            if (File.Exists(metricsPath))
                history.AddRange(MetricsJson.ReadEpochs<SegmentationEpochMetrics>(metricsPath));
            history.RemoveAll(m => m.Epoch >= trainer.Epoch);
            Log?.Invoke($"resumed from {last} at epoch {trainer.Epoch}, step {trainer.Step}");
        }
        double best = history.Where(h => h.MIoU.HasValue).Select(h => h.MIoU!.Value).DefaultIfEmpty(double.NegativeInfinity).Max();
        var runClock = Stopwatch.StartNew();
        long stepsAtStart = trainer.Step;

        for (int epoch = trainer.Epoch; epoch < options.Epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            var sums = new double[segmenter.Learner.Plan.K];
            var named = new Dictionary<string, double>();
            var stepTimes = new List<double>();
            var gradNorms = new GradNormLog(sums.Length, options.ClipGradNorm);
            long seen = 0;
            int b = 0;
            StepResult? lastResult = null;
            foreach (var batch in loader.Epoch(epoch, cancellationToken).Take(batches))
            {
                using (batch)
                using (var scope = NewDisposeScope())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var x = batch.Images.to(device);
                    var y = batch.Labels.to(device);
                    var t0 = Stopwatch.GetTimestamp();
                    try
                    {
                        lastResult = trainer.TrainStep(x, y);
                    }
                    catch (NonFiniteLossException)
                    {
                        WriteMetrics(metricsPath, options, segmenter, data, history, failed: true);
                        throw;
                    }
                    stepTimes.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                    gradNorms.Add(trainer.LastGradNorms);
                    for (int k = 0; k < sums.Length; k++) sums[k] += lastResult.BlockLosses[k];
                    foreach (var (name, v) in lastResult.NamedLosses) named[name] = named.GetValueOrDefault(name) + v;
                    seen += batch.Count;
                    b++;
                    double done = trainer.Step - stepsAtStart;
                    var eta = TimeSpan.FromSeconds(runClock.Elapsed.TotalSeconds / Math.Max(1, done) * (total - trainer.Step));
                    progress?.Report(new SegmentationTrainProgress(epoch, options.Epochs, b, batches, seen / Math.Max(1e-9, epochClock.Elapsed.TotalSeconds),
                        eta, sums.Select(s => s / b).ToArray(), lastResult.S, trainer.CurrentLr));
                }
            }
            double trainSeconds = epochClock.Elapsed.TotalSeconds;
            // The epoch's evaluation always completes, so that its checkpoint and metrics are written together.
            bool evaluate = options.EvalEvery > 0 && ((epoch + 1) % options.EvalEvery == 0 || epoch + 1 == options.Epochs);
            int preciseBatches = 0;
            if (evaluate && options.PreciseBnBatches > 0)
            {
                // Its own loader epoch, which no training epoch uses: training and resumption are unchanged.
                var (layers, n) = RecomputeBatchNorm(segmenter, data, options.PreciseBnBatches, new TrainingLoader(options.BatchSize, options.Seed,
                    options.CropSize, options.MinScale, options.MaxScale, options.Jitter, epoch), device, options.Workers);
                preciseBatches = layers > 0 ? n : 0;
            }
            var evalClock = Stopwatch.StartNew();
            SegmentationMetrics? eval = evaluate
                ? Evaluate(segmenter, data.Val, device, options.EvalBatchSize, options.EvalWindow, options.Workers, CancellationToken.None)
                : null;
            var metrics = new SegmentationEpochMetrics
            {
                Epoch = epoch,
                TrainLossPerBlock = sums.Select(s => s / Math.Max(1, b)).ToArray(),
                TrainLosses = named.ToDictionary(kv => kv.Key, kv => kv.Value / Math.Max(1, b)),
                S = (lastResult?.S ?? segmenter.Learner.SValues).Select(v => double.IsNaN(v) ? (double?)null : v).ToArray(),
                MIoU = Finite(eval?.MIoU),
                AAcc = Finite(eval?.AAcc),
                MAcc = Finite(eval?.MAcc),
                IoU = eval is null ? null : eval.ClassNames.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => Finite(eval.IoU[p.i])),
                Acc = eval is null ? null : eval.ClassNames.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => Finite(eval.Acc[p.i])),
                StepTimeMsMedian = RunStatistics.Median(stepTimes),
                GradNormMedianPerBlock = gradNorms.MedianPerBlock(),
                ClippedStepsPerBlock = gradNorms.ClippedStepsPerBlock(),
                ImagesPerSecond = seen / Math.Max(1e-9, trainSeconds),
                PeakRssMiB = Memory.PeakRssMiB(),
                LearningRate = trainer.CurrentLr,
                TrainSeconds = trainSeconds,
                EvalSeconds = evaluate ? evalClock.Elapsed.TotalSeconds : 0,
                PreciseBnBatches = preciseBatches,
            };
            trainer.Epoch = epoch + 1;
            trainer.Save(last, meta);
            if (metrics.MIoU is double miou && miou > best)
            {
                best = miou;
                string tmp = Path.Combine(runDir, BestCheckpoint + ".tmp");
                File.Copy(last, tmp, overwrite: true);
                File.Move(tmp, Path.Combine(runDir, BestCheckpoint), overwrite: true);
            }
            history.Add(metrics);
            WriteMetrics(metricsPath, options, segmenter, data, history, failed: false);
        }
        return history;
    }

    /// <summary>
    /// The loader settings of a training run that a precise batch-norm pass repeats: batch size, seed, crop and scale range,
    /// colour jitter, and the 0-based epoch whose pass it is.
    /// </summary>
    public sealed record TrainingLoader(int BatchSize, long Seed, int CropSize, double MinScale, double MaxScale, bool Jitter, int Epoch);

    /// <summary>
    /// Precise batch norm (detectron2's PRECISE_BN) for a segmenter: the batch-norm layers of the backbone and of the main
    /// head (not the training-only auxiliary heads) get as running statistics the average over up to
    /// <paramref name="batches"/> training batches of <paramref name="data"/>, drawn by the training loader of
    /// <paramref name="loader"/> in its own loader epoch (<see cref="PreciseBatchNorm.LoaderEpochOffset"/> + epoch), so that
    /// the pass inside <see cref="Train"/> and one on a saved checkpoint see the same batches. Returns the layers recomputed
    /// (0 when none is in training mode) and the batches used.
    /// </summary>
    public static (int Layers, int Batches) RecomputeBatchNorm(Segmenter segmenter, SegmentationDataSource data, int batches, TrainingLoader loader,
        Device device, int workers = 0)
    {
        ArgumentNullException.ThrowIfNull(segmenter);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batches);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(loader.BatchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(loader.Epoch);
        var trainLoader = DataLoaders.Segmentation(
            new SegmentationMapper(data.Train, SegmentationCompose.Train(loader.CropSize, loader.CropSize, loader.MinScale, loader.MaxScale, loader.Jitter)),
            new LoaderOptions { BatchSize = loader.BatchSize, Shuffle = true, DropLast = true, Seed = loader.Seed, Workers = workers },
            divisor: 1);
        int n = Math.Min(batches, trainLoader.BatchesPerEpoch);
        if (n == 0)
            throw new ArgumentException($"precise batch norm: the training split {data.Train.Name} has {data.Train.Samples.Count} images, fewer than one batch of {loader.BatchSize}.");
        segmenter.Learner.train();
        // The main head's dropout (DeepLabV3) runs in training mode: the generator is seeded from the loader's seed and
        // epoch for the pass, so that the pass inside a run and one on its checkpoint draw the same masks (and is put
        // back afterwards: the run's own random stream is unchanged).
        int layers = PreciseBatchNorm.Recompute([segmenter.Network, segmenter.Head.Classifier],
            trainLoader.Epoch(PreciseBatchNorm.LoaderEpochOffset + loader.Epoch, CancellationToken.None), n,
            batch => segmenter.Logits(batch.Images.to(device)), $"the training split {data.Train.Name}",
            seed: unchecked(loader.Seed * 1_000_003L + PreciseBatchNorm.LoaderEpochOffset + loader.Epoch));
        return (layers, n);
    }

    /// <summary>
    /// The training-loader settings a checkpoint stores (null for each one a checkpoint from before they were stored
    /// lacks; the crop size is always stored) and the 0-based epoch whose end it holds.
    /// </summary>
    /// <exception cref="CheckpointException">Not a segmentation checkpoint, or a stored value is malformed.</exception>
    public static (int? BatchSize, long? Seed, int CropSize, double? MinScale, double? MaxScale, bool? Jitter, int Epoch) TrainingLoaderOf(string checkpoint)
    {
        var meta = CheckpointMeta.Read(checkpoint, "segment", "segmentation");
        var (batch, seed, crop) = (meta.Int("batch_size"), meta.Long("seed"), meta.RequireInt("crop"));
        var (min, max, jitter, epoch) = (meta.Double("min_scale"), meta.Double("max_scale"), meta.Bool("jitter"), meta.LastEpochIndex);
        return (batch, seed, crop, min, max, jitter, epoch);
    }

    /// <summary>
    /// mmsegmentation's IoUMetric of a segmenter on a data set: each image normalised as in training and predicted whole (or
    /// with a sliding window) at its own size; labels 255 are ignored.
    /// </summary>
    /// <param name="segmenter">The model (its training mode is restored afterwards).</param>
    /// <param name="data">The evaluation split.</param>
    /// <param name="device">Compute device.</param>
    /// <param name="batchSize">Images per forward pass (images of different sizes are padded; the padding is not scored).</param>
    /// <param name="window">Sliding-window inference, or null for whole images.</param>
    /// <param name="workers">Data loading threads.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    /// <exception cref="ArgumentException">The data's classes differ from the model's.</exception>
    public static SegmentationMetrics Evaluate(Segmenter segmenter, SegmentationDataset data, Device device, int batchSize = 1,
        SlidingWindow? window = null, int workers = 2, CancellationToken cancellationToken = default)
    {
        if (!data.Encoding.ClassNames.SequenceEqual(segmenter.Classes))
            throw new ArgumentException(
                $"The data set {data.Name} has classes ({string.Join(", ", data.Encoding.ClassNames.Take(6))}…) that differ from the model's ({string.Join(", ", segmenter.Classes.Take(6))}…).");
        if (data.Samples.Count == 0) throw new ArgumentException($"The evaluation split {data.Name} is empty.");
        var metric = new IoUMetric(segmenter.NumClasses, segmenter.Options.IgnoreIndex, segmenter.Classes);
        var loader = DataLoaders.Segmentation(new SegmentationMapper(data, SegmentationCompose.Eval()),
            new LoaderOptions { BatchSize = batchSize, Workers = Math.Max(1, workers) }, divisor: 1);
        var learner = segmenter.Learner;
        bool wasTraining = learner.training;
        learner.eval();
        try
        {
            using var noGrad = no_grad();
            foreach (var batch in loader.Epoch(0, cancellationToken))
            {
                using (batch)
                using (var scope = NewDisposeScope())
                {
                    var predictions = SegmentationInference.Predict(segmenter.Logits, batch.Images.to(device), window).cpu();
                    for (int i = 0; i < batch.Count; i++)
                    {
                        var (h, w) = batch.ImageSizes[i];
                        try
                        {
                            metric.Process(predictions[i, ..h, ..w], batch.Labels[i, ..h, ..w]);
                        }
                        catch (ArgumentException e)
                        {
                            throw new InvalidDataException($"{batch.Records[i].LabelPath}: {e.Message}", e);
                        }
                    }
                }
            }
        }
        finally
        {
            learner.train(wasTraining);
        }
        return metric.Evaluate();
    }

    private static void WriteMetrics(string path, SegmentationTrainOptions options, Segmenter segmenter, SegmentationDataSource data,
        List<SegmentationEpochMetrics> history, bool failed)
    {
        var bestEpoch = history.Where(h => h.MIoU.HasValue).OrderByDescending(h => h.MIoU).ThenBy(h => h.Epoch).FirstOrDefault();
        var doc = new JObject
        {
            ["task"] = "segment",
            ["data"] = data.Spec,
            ["train_images"] = data.Train.Samples.Count,
            ["val_images"] = data.Val.Samples.Count,
            ["classes"] = new JArray(segmenter.Classes),
            ["arch"] = options.Arch,
            ["head"] = options.Head.ToString().ToLowerInvariant(),
            ["aux_loss"] = options.AuxLoss,
            ["output_stride"] = options.EffectiveOutputStride,
            ["method"] = options.Method.Name(),
            ["k"] = segmenter.Learner.Plan.K,
            ["split"] = options.Split,
            ["plan"] = segmenter.Learner.Plan.ToString(),
            ["blocks"] = new JArray(segmenter.BlockNames()),
            ["units"] = segmenter.Learner.Plan.UnitCount,
            ["crop"] = options.CropSize,
            ["batch_size"] = options.BatchSize,
            ["lr"] = options.LearningRate,
            ["weight_decay"] = options.WeightDecay,
            ["seed"] = options.Seed,
            ["clip_grad_norm"] = options.ClipGradNorm,
            ["precise_bn"] = options.PreciseBnBatches > 0 ? options.PreciseBnBatches : JValue.CreateNull(),
            ["epochs_planned"] = options.Epochs,
            ["max_batches_per_epoch"] = options.MaxBatchesPerEpoch,
            ["eval"] = options.EvalWindow is { } w ? $"slide {w.CropHeight}x{w.CropWidth} stride {w.StrideHeight}x{w.StrideWidth}" : "whole",
            ["pretrained"] = options.Pretrained,
            ["freeze_at"] = options.FreezeAt,
            ["init_copies_from_unit"] = options.InitializeCopiesFromUnit,
            ["stopped_on_non_finite_loss"] = failed,
            ["torch_threads"] = torch.get_num_threads(),
            ["best"] = bestEpoch is null ? null : new JObject { ["epoch"] = bestEpoch.Epoch, ["mIoU"] = bestEpoch.MIoU },
            ["epochs"] = MetricsJson.ToArray(history),
        };
        string tmp = path + ".tmp";
        File.WriteAllText(tmp, doc.ToString(Formatting.Indented));
        File.Move(tmp, path, overwrite: true);
    }

    private static double? Finite(double? v) => v is double d && !double.IsNaN(d) ? d : null;

}
