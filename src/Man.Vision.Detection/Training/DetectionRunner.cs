using System.Diagnostics;
using Man.Local;
using Man.Local.Training;
using Man.Runtime;
using Man.Vision.Backbones.Norm;
using Man.Vision.Data.Batching;
using Man.Vision.Data.DetectionTransforms;
using Man.Vision.Data.Loading;
using Man.Vision.Detection.Inference;
using Man.Vision.Detection.LocalLearning;
using Man.Vision.Detection.Models;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Training;

/// <summary>
/// Trains a ResNet-FPN Faster R-CNN epoch by epoch with the local-learning engine (e2e, greedy, MAN or MAN++ over the
/// backbone's units), evaluates it after every epoch with pycocotools' protocol (and VOC AP50 on VOC data), and writes
/// <c>metrics.json</c> and checkpoints (<c>last.ckpt</c>, <c>best.ckpt</c> by AP) into the run folder. A run resumes from
/// <c>last.ckpt</c> of its folder and continues exactly where it stopped.
/// </summary>
public sealed class DetectionRunner
{
    /// <summary>Name of the checkpoint written after every epoch.</summary>
    public const string LastCheckpoint = "last.ckpt";

    /// <summary>Name of the checkpoint of the best evaluation AP.</summary>
    public const string BestCheckpoint = "best.ckpt";

    /// <summary>Name of the metrics file.</summary>
    public const string MetricsFile = "metrics.json";

    /// <summary>The report of the pretrained backbone weights of the last <see cref="Train"/>, or null.</summary>
    public Man.Vision.Backbones.Weights.LoadReport? PretrainedReport { get; private set; }

    /// <summary>Raised when pretrained backbone weights were loaded (before the first step), with the load report.</summary>
    public event Action<Man.Vision.Backbones.Weights.LoadReport>? PretrainedLoaded;

    /// <summary>The warnings of the last <see cref="Train"/> (also in <c>metrics.json</c> under <c>warnings</c>).</summary>
    public IReadOnlyList<string> Warnings => warnings;

    private readonly List<string> warnings = [];

    private void Warn(string message)
    {
        warnings.Add(message);
        Warning?.Invoke(message);
    }

    /// <summary>Raised (before the first step) with a warning about the run's configuration, e.g. early blocks that cannot learn.</summary>
    public event Action<string>? Warning;

    /// <summary>The training transform: torchvision's resize by min/max side, optional jitter, flip, clip/drop boxes, ImageNet normalisation.</summary>
    public static DetectionCompose TrainTransform(DetectionTrainOptions options, TransformOptions transform)
    {
        var list = new List<IDetectionTransform> { new ResizeByMinMaxSide(transform.MinSize, transform.MaxSize) };
        if (options.Jitter) list.Add(new PhotometricJitter(hue: 0, probability: 0.5));
        if (options.Flip) list.Add(new RandomHorizontalFlip());
        list.Add(new ClipAndDropBoxes());
        list.Add(new Normalize(transform.ImageMean, transform.ImageStd));
        return new DetectionCompose(list);
    }

    /// <summary>Trains; returns the per-epoch metrics.</summary>
    /// <param name="options">Run options.</param>
    /// <param name="data">Training and evaluation records.</param>
    /// <param name="runDir">Run folder for metrics and checkpoints.</param>
    /// <param name="resume">Continue from <c>runDir/last.ckpt</c> when it exists.</param>
    /// <param name="device">Compute device.</param>
    /// <param name="progress">Live progress, or null.</param>
    /// <param name="cancellationToken">Stops between steps; the last epoch checkpoint stays.</param>
    /// <exception cref="NonFiniteLossException">A loss became NaN/∞: metrics so far are written, the last good checkpoint kept.</exception>
    public IReadOnlyList<DetectionEpochMetrics> Train(DetectionTrainOptions options, DetectionDataSource data, string runDir, bool resume,
        Device device, IProgress<DetectionTrainProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        Directory.CreateDirectory(runDir);
        string last = Path.Combine(runDir, LastCheckpoint);
        string metricsPath = Path.Combine(runDir, MetricsFile);
        bool resuming = resume && File.Exists(last);
        var config = new DetectionModelConfig(options.Backbone.ToLowerInvariant(), options.Method, options.K, options.Split, data.Classes, data.CategoryIds,
            options.MinSize, options.MaxSize, options.EffectiveTrainableLayers, FrozenBatchNorm: options.EffectiveFrozenBatchNorm, options.EmaMomentum,
            options.RoiSamplesPerImage, options.RpnPostNmsTrain, options.RpnPostNmsTest, options.AuxHead, options.AuxMinStride,
            options.InitializeCopiesFromUnit, options.ReturnedLayers);
        var saved = resuming ? CheckResumable(last, config, options.EarlyLrScale, options.FreezeEarlyAt) : null;
        using var model = DetectionModel.Create(config, options.Seed, resuming ? null : options.Pretrained, device);
        PretrainedReport = model.PretrainedReport;
        if (PretrainedReport is not null) PretrainedLoaded?.Invoke(PretrainedReport);
        warnings.Clear();
        var idle = model.Learner.IdleEarlyBlocks();
        if (idle.Count > 0)
            Warn($"early block{(idle.Count > 1 ? "s" : "")} {string.Join(", ", idle)} of split {model.Learner.Plan} hold{(idle.Count > 1 ? "" : "s")} only frozen " +
                $"backbone units (trainable layers {config.TrainableLayers}): nothing there learns, so {(idle.Count > 1 ? "they run" : "it runs")} without {(idle.Count > 1 ? "their auxiliary losses" : "its auxiliary loss")} (loss shown as –). " +
                "Start the early blocks at trainable units (--split balanced or uniform do; explicit starts such as --split 0,4,5,6 for ResNet-18 with 3 trainable layers) or train more layers.");

        var detectorOptions = config.DetectorOptions();
        var mapper = new DetectionMapper(data.Train, TrainTransform(options, detectorOptions.Transform), new DetectionMapperOptions(LoadMasks: false, DropCrowd: true));
        var loader = DataLoaders.Detection(mapper, new LoaderOptions
        {
            BatchSize = options.BatchSize, Shuffle = true, Seed = options.Seed, Workers = options.Workers,
        });
        int batches = options.MaxBatchesPerEpoch > 0 ? Math.Min(options.MaxBatchesPerEpoch, loader.BatchesPerEpoch) : loader.BatchesPerEpoch;
        if (batches == 0) throw new ArgumentException($"The training split of {data.Spec} holds no image.");
        long total = (long)batches * options.Epochs;
        long warmup = Math.Min(total, options.WarmupIterations ?? Math.Min(1000, batches));
        var meta = config.ToMeta();
        meta["data"] = data.Spec;
        meta["early_lr_scale"] = options.EarlyLrScale.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        meta["freeze_early_at"] = options.FreezeEarlyAt?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "";
        // What a later `eval detect --precise-bn` needs to batch the training split as this run does.
        meta["batch_size"] = options.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        meta["seed"] = options.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
        meta["flip"] = options.Flip ? "true" : "false";
        meta["jitter"] = options.Jitter ? "true" : "false";

        int segment = saved is null ? 0 : Segment(options, saved.EpochsDone ?? 0);
        var trainer = new LocalTrainer<DetectionTargets>(model.Learner, TrainerFor(options, model, segment, total, warmup));
        try
        {
            var history = new List<DetectionEpochMetrics>();
            if (resuming)
            {
                trainer.Load(last);
                if (File.Exists(metricsPath))
                    history.AddRange(MetricsJson.ReadEpochs<DetectionEpochMetrics>(metricsPath));
                history.RemoveAll(m => m.Epoch >= trainer.Epoch);
            }
            double best = history.Select(h => Score(h, data.Kind)).DefaultIfEmpty(double.NegativeInfinity).Max();
            var runClock = Stopwatch.StartNew();
            long stepsAtStart = trainer.Step;

            for (int epoch = trainer.Epoch; epoch < options.Epochs; epoch++)
            {
                if (options.FreezeEarlyAt is int freezeAt && epoch >= freezeAt)
                    for (int block = 0; block + 1 < model.Learner.Plan.K; block++) model.Learner.FreezeBlock(block);
                int wanted = Segment(options, epoch);
                if (wanted != segment)
                {
                    trainer = Rebuild(trainer, model, TrainerFor(options, model, wanted, total, warmup), runDir, meta);
                    segment = wanted;
                }
                var epochClock = Stopwatch.StartNew();
                var sums = new double[model.Learner.Plan.K];
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
                        var images = batch.Images.to(device);
                        var sizes = batch.ImageSizes.Select(s => new ImageSize(s.Height, s.Width)).ToArray();
                        var targets = batch.Targets.Select(t => new DetectionTarget(t.Boxes.to(device), t.Labels.to(device))).ToArray();
                        var target = DetectionTargets.From(new ImageList(images, sizes), targets);
                        var t0 = Stopwatch.GetTimestamp();
                        try
                        {
                            lastResult = trainer.TrainStep(images, target);
                        }
                        catch (NonFiniteLossException)
                        {
                            WriteMetrics(metricsPath, options, data, model, history, failed: true);
                            throw;
                        }
                        stepTimes.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                        gradNorms.Add(trainer.LastGradNorms);
                        for (int k = 0; k < sums.Length; k++) sums[k] += lastResult.BlockLosses[k];
                        foreach (var (name, v) in lastResult.NamedLosses) named[name] = named.GetValueOrDefault(name) + v;
                        seen += batch.Count;
                        b++;
                        double done = trainer.Step - stepsAtStart;
                        double rate = seen / Math.Max(1e-9, epochClock.Elapsed.TotalSeconds);
                        var eta = TimeSpan.FromSeconds(runClock.Elapsed.TotalSeconds / Math.Max(1, done) * (total - trainer.Step));
                        progress?.Report(new DetectionTrainProgress(epoch, options.Epochs, b, batches, rate, eta,
                            sums.Select(s => s / b).ToArray(), lastResult.S, trainer.CurrentLr));
                    }
                }
                double trainSeconds = epochClock.Elapsed.TotalSeconds;
                int skippedSamples = loader.LastEpoch?.Skipped ?? 0;
                var preciseBnClock = Stopwatch.StartNew();
                var preciseBn = options.PreciseBnBatches > 0
                    ? RecomputeBatchNorm(model, data, options.PreciseBnBatches, options.BatchSize, options.Seed, epoch, device, options.Workers, options.Flip, options.Jitter)
                    : (Layers: 0, Batches: 0);
                // The epoch's evaluation always completes, so that its checkpoint and metrics are written together.
                // Batch 1 as torchvision's reference evaluation: detections then do not depend on which images share a padded batch.
                var eval = DetectionInference.Evaluate(model.Detector, data.Val, data.Kind == DetectionDataKind.Voc, batchSize: 1, options.Workers,
                    options.MaxEvalImages, device, CancellationToken.None);
                model.Learner.train();
                var metrics = new DetectionEpochMetrics
                {
                    Epoch = epoch,
                    TrainLossPerBlock = sums.Select(s => s / Math.Max(1, b)).ToArray(),
                    Losses = named.ToDictionary(kv => kv.Key, kv => kv.Value / Math.Max(1, b)),
                    S = lastResult?.S ?? [],
                    Coco = eval.Stats.ToDictionary(kv => kv.Key, kv => kv.Value),
                    VocAp50 = eval.VocAp50,
                    VocAp50Voc07 = eval.Voc?["mAP07"],
                    EvalImages = eval.Images,
                    Steps = b,
                    StepTimeMsMedian = RunStatistics.Median(stepTimes),
                    ImagesPerSecond = seen / Math.Max(1e-9, trainSeconds),
                    PeakRssMiB = Memory.PeakRssMiB(),
                    LearningRate = trainer.CurrentLr,
                    Seconds = trainSeconds,
                    EvalSeconds = eval.Seconds,
                    SkippedSamples = skippedSamples,
                    PreciseBnBatches = preciseBn.Layers > 0 ? preciseBn.Batches : 0,
                    PreciseBnSeconds = options.PreciseBnBatches > 0 ? preciseBnClock.Elapsed.TotalSeconds : null,
                    GradNormMedianPerBlock = gradNorms.MedianPerBlock(),
                    ClippedStepsPerBlock = gradNorms.ClippedStepsPerBlock(),
                };
                trainer.Epoch = epoch + 1;
                trainer.Save(last, meta);
                double score = Score(metrics, data.Kind);
                if (score > best)
                {
                    best = score;
                    string tmp = Path.Combine(runDir, BestCheckpoint + ".tmp");
                    File.Copy(last, tmp, overwrite: true);
                    File.Move(tmp, Path.Combine(runDir, BestCheckpoint), overwrite: true);
                }
                history.Add(metrics);
                WriteMetrics(metricsPath, options, data, model, history, failed: false);
            }
            return history;
        }
        finally
        {
            trainer.Dispose();
        }
    }

    /// <summary>
    /// Precise batch norm (<see cref="DetectionTrainOptions.PreciseBnBatches"/>): recomputes the running statistics of the
    /// backbone's batch-norm layers in training mode as the average over up to <paramref name="batches"/> batches of the
    /// training split (at most one pass), with the training transform (resize, flip and jitter as given, normalisation)
    /// and the training loader's batching (<paramref name="batchSize"/>, <paramref name="seed"/>). The pass after epoch
    /// <paramref name="epoch"/> (0-based) is loader epoch <see cref="PreciseBatchNorm.LoaderEpochOffset"/> + epoch, which no training
    /// epoch uses: the training batches, and with them resumption, do not change, and recomputing on a saved checkpoint
    /// (<c>eval detect --precise-bn</c>) with the same values gives the same statistics. The model is left in training mode.
    /// </summary>
    /// <returns>The layers updated (0 with frozen batch norm: nothing runs) and the batches used.</returns>
    public static (int Layers, int Batches) RecomputeBatchNorm(DetectionModel model, DetectionDataSource data, int batches, int batchSize, long seed,
        int epoch, Device device, int workers = 0, bool flip = true, bool jitter = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batches);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var transform = TrainTransform(new DetectionTrainOptions { Flip = flip, Jitter = jitter }, model.Config.DetectorOptions().Transform);
        var mapper = new DetectionMapper(data.Train, transform, new DetectionMapperOptions(LoadMasks: false, DropCrowd: true));
        var loader = DataLoaders.Detection(mapper, new LoaderOptions { BatchSize = batchSize, Shuffle = true, Seed = seed, Workers = workers });
        int n = Math.Min(batches, loader.BatchesPerEpoch);
        if (n == 0) throw new ArgumentException($"precise batch norm: the training split of {data.Spec} holds no image.");
        model.Learner.train();
        int layers = PreciseBatchNorm.Recompute([model.Network], loader.Epoch(PreciseBatchNorm.LoaderEpochOffset + epoch, CancellationToken.None), n,
            batch => model.Network.ForwardBackbone(batch.Images.to(device)), $"the training split of {data.Spec}");
        return (layers, n);
    }

    /// <summary>
    /// The training-loader values of a checkpoint for <see cref="RecomputeBatchNorm"/>: the batch size, seed, flip and
    /// jitter stored by <see cref="Train"/> (null where a checkpoint from before they were stored lacks them) and the
    /// 0-based epoch whose end it holds.
    /// </summary>
    /// <exception cref="CheckpointException">Not a detection checkpoint, or a stored value is malformed.</exception>
    public static (int? BatchSize, long? Seed, bool? Flip, bool? Jitter, int Epoch) TrainingLoaderOf(string checkpoint)
    {
        var meta = CheckpointMeta.Read(checkpoint, DetectionModelConfig.TaskName, "detection");
        var (batch, seed, flip, jitter, epoch) = (meta.Int("batch_size"), meta.Long("seed"), meta.Bool("flip"), meta.Bool("jitter"), meta.LastEpochIndex);
        return (batch, seed, flip, jitter, epoch);
    }

    /// <summary>The step schedule's segment at the start of <paramref name="epoch"/> (milestones passed).</summary>
    private static int Segment(DetectionTrainOptions options, int epoch) =>
        options.Schedule == DetectionSchedule.Step ? options.EffectiveMilestones.Count(m => m <= epoch) : 0;

    /// <summary>
    /// The engine's schedule for a segment: cosine over the whole run, or for the step schedule a constant rate of
    /// lr·γ^segment (the warm-up belongs to the first segment). The engine's schedules are pure functions of the step;
    /// a step decay is realised by continuing the same run with the next segment's constant rate.
    /// </summary>
    private static TrainerOptions TrainerFor(DetectionTrainOptions options, DetectionModel model, int segment, long total, long warmup) => new()
    {
        LrScaleByName = EarlyBlockLrScale(model.Learner, options.EarlyLrScale),
        MaxGradNorm = options.ClipGradNorm,
        Optimizer = OptimizerKind.Sgd,
        Momentum = options.Momentum,
        Nesterov = false,
        WeightDecay = options.WeightDecay,
        Seed = options.Seed,
        Schedule = options.Schedule == DetectionSchedule.Cosine
            ? new LearningRateSchedule { Kind = ScheduleKind.Cosine, BaseLr = options.EffectiveLearningRate, TotalSteps = total, WarmupSteps = warmup }
            : new LearningRateSchedule
            {
                Kind = ScheduleKind.Constant, BaseLr = options.EffectiveLearningRate * Math.Pow(options.Gamma, segment), TotalSteps = total,
                WarmupSteps = segment == 0 ? warmup : 0,
            },
    };

    /// <summary>
    /// The rate multiplier of <see cref="DetectionTrainOptions.EarlyLrScale"/>: <paramref name="scale"/> for the
    /// backbone units of the early blocks 0..K−2 (not their auxiliary networks, not the last block); null when it is 1.
    /// </summary>
    public static Func<string, double>? EarlyBlockLrScale<TTarget>(LocalLearner<TTarget> learner, double scale)
    {
        if (scale == 1.0) return null;
        var blocks = learner.ModelParameterBlocks();
        int last = learner.Plan.K - 1;
        return name => blocks.TryGetValue(name, out int b) && b < last ? scale : 1.0;
    }

    /// <summary>Continues the run in a trainer with other schedule options: the whole state (weights, optimizer, step, RNG) carries over.</summary>
    private static LocalTrainer<DetectionTargets> Rebuild(LocalTrainer<DetectionTargets> trainer, DetectionModel model, TrainerOptions next, string runDir,
        IReadOnlyDictionary<string, string> meta)
    {
        string tmp = Path.Combine(runDir, ".schedule-segment.tmp");
        trainer.Save(tmp, meta);
        trainer.Dispose();
        var rebuilt = new LocalTrainer<DetectionTargets>(model.Learner, next);
        rebuilt.Load(tmp);
        File.Delete(tmp);
        return rebuilt;
    }

    /// <summary>Refuses to resume from a checkpoint trained with other settings; returns its header.</summary>
    private static CheckpointMeta CheckResumable(string checkpoint, DetectionModelConfig config, double earlyLrScale, int? freezeEarlyAt)
    {
        var meta = DetectionModelConfig.ReadMeta(checkpoint);
        var saved = DetectionModelConfig.FromCheckpoint(meta);
        if (meta.Get("freeze_early_at") is string freeze
            && freeze != (freezeEarlyAt?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? ""))
            throw new CheckpointException(checkpoint,
                $"it was trained with {(freeze == "" ? "no --freeze-early-at" : $"--freeze-early-at {freeze}")}; this run asks for {(freezeEarlyAt is int f ? $"--freeze-early-at {f}" : "none")} (resume with the same setting, or start a new run folder).");
        // Checkpoints written before the scale was stored carry no value and are not checked.
        if (meta.Double("early_lr_scale") is double savedScale && savedScale != earlyLrScale)
            throw new CheckpointException(checkpoint,
                $"it was trained with --early-lr-scale {savedScale.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}; this run asks for {earlyLrScale.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} (resume with the same scale, or start a new run folder).");
        if (!saved.Classes.SequenceEqual(config.Classes))
            throw new CheckpointException(checkpoint, $"its classes ({string.Join(", ", saved.Classes.Take(5))}…) differ from the data's ({string.Join(", ", config.Classes.Take(5))}…).");
        if (saved.Backbone != config.Backbone || saved.Method != config.Method || saved.MinSize != config.MinSize || saved.MaxSize != config.MaxSize
            || saved.TrainableLayers != config.TrainableLayers || saved.FrozenBatchNorm != config.FrozenBatchNorm
            || saved.AuxHead != config.AuxHead || saved.AuxMinStride != config.AuxMinStride || !saved.FpnLayers.SequenceEqual(config.FpnLayers))
            throw new CheckpointException(checkpoint,
                $"it was trained as {saved.Backbone} {saved.Method.Name()} {saved.MinSize}/{saved.MaxSize} px, trainable layers {saved.TrainableLayers}{(saved.FrozenBatchNorm ? ", frozen batch norm" : "")}, {saved.AuxHead} auxiliary heads (stride ≥ {saved.AuxMinStride}), FPN over layers {string.Join(",", saved.FpnLayers)}; " +
                $"this run asks for {config.Backbone} {config.Method.Name()} {config.MinSize}/{config.MaxSize} px, trainable layers {config.TrainableLayers}{(config.FrozenBatchNorm ? ", frozen batch norm" : "")}, {config.AuxHead} auxiliary heads (stride ≥ {config.AuxMinStride}), FPN over layers {string.Join(",", config.FpnLayers)}.");
        return meta;
    }

    /// <summary>The number that picks the best checkpoint: VOC AP50 on VOC data, COCO AP otherwise.</summary>
    private static double Score(DetectionEpochMetrics m, DetectionDataKind kind) =>
        kind == DetectionDataKind.Voc && m.VocAp50 is double v ? v : m.Coco.GetValueOrDefault("AP", double.NegativeInfinity);

    private void WriteMetrics(string path, DetectionTrainOptions options, DetectionDataSource data, DetectionModel model,
        List<DetectionEpochMetrics> history, bool failed)
    {
        var doc = new JObject
        {
            ["task"] = "detect",
            ["data"] = data.Spec,
            ["data_kind"] = data.Kind.ToString().ToLowerInvariant(),
            ["train_images"] = data.Train.Images.Count,
            ["eval_images"] = data.Val.Images.Count,
            ["eval_on_train_split"] = data.ValIsTrain,
            ["classes"] = new JArray(data.Classes),
            ["backbone"] = model.Config.Backbone,
            ["fpn"] = true,
            ["returned_layers"] = new JArray(model.Config.FpnLayers),
            ["method"] = options.Method.Name(),
            ["k"] = model.Learner.Plan.K,
            ["split"] = model.Learner.Plan.ToString(),
            ["units"] = model.Learner.Plan.UnitCount,
            ["min_size"] = options.MinSize,
            ["max_size"] = options.MaxSize,
            ["batch_size"] = options.BatchSize,
            ["lr"] = options.EffectiveLearningRate,
            ["momentum"] = options.Momentum,
            ["weight_decay"] = options.WeightDecay,
            ["schedule"] = options.Schedule.ToString().ToLowerInvariant(),
            ["milestones"] = options.Schedule == DetectionSchedule.Step ? new JArray(options.EffectiveMilestones) : null,
            ["trainable_layers"] = options.EffectiveTrainableLayers,
            ["frozen_batch_norm"] = options.EffectiveFrozenBatchNorm,
            ["roi_samples_per_image"] = options.RoiSamplesPerImage,
            ["rpn_post_nms_train"] = options.RpnPostNmsTrain,
            ["rpn_post_nms_test"] = options.RpnPostNmsTest,
            ["aux_head"] = options.AuxHead,
            ["aux_min_stride"] = options.AuxMinStride,
            ["early_lr_scale"] = options.EarlyLrScale,
            ["freeze_early_at"] = options.FreezeEarlyAt is int fe ? fe : JValue.CreateNull(),
            ["clip_grad_norm"] = options.ClipGradNorm,
            ["init_copies_from_unit"] = options.InitializeCopiesFromUnit,
            // Null when off, as for every option added later: `man-vision report` then groups these runs with older ones.
            ["precise_bn"] = options.PreciseBnBatches > 0 ? options.PreciseBnBatches : JValue.CreateNull(),
            ["pretrained"] = options.Pretrained,
            ["seed"] = options.Seed,
            ["epochs_planned"] = options.Epochs,
            ["max_batches_per_epoch"] = options.MaxBatchesPerEpoch,
            ["stopped_on_non_finite_loss"] = failed,
            ["warnings"] = new JArray(Warnings),
            ["torch_threads"] = torch.get_num_threads(),
            ["epochs"] = MetricsJson.ToArray(history),
        };
        string tmp = path + ".tmp";
        File.WriteAllText(tmp, doc.ToString(Formatting.Indented));
        File.Move(tmp, path, overwrite: true);
    }

}
