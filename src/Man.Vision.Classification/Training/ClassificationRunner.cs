using System.Diagnostics;
using Man.Local;
using Man.Local.Training;
using Man.Runtime;
using Man.Vision.Backbones.FineTuning;
using Man.Vision.Backbones.Weights;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Classification.Training;

/// <summary>
/// Trains a classifier epoch by epoch with the local-learning engine, evaluates it after every epoch, and
/// writes <c>metrics.json</c> and checkpoints (<c>last.ckpt</c>, <c>best.ckpt</c>) into the run folder.
/// A run resumes from <c>last.ckpt</c> of its folder and continues exactly where it stopped.
/// </summary>
public sealed class ClassificationRunner
{
    /// <summary>Name of the checkpoint written after every epoch.</summary>
    public const string LastCheckpoint = "last.ckpt";

    /// <summary>Name of the checkpoint of the best test accuracy.</summary>
    public const string BestCheckpoint = "best.ckpt";

    /// <summary>Name of the metrics file.</summary>
    public const string MetricsFile = "metrics.json";

    /// <summary>Receives one-line notes of the run (weights loaded, units frozen).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Trains; returns the per-epoch metrics.</summary>
    /// <param name="options">Run options.</param>
    /// <param name="train">Training batches (shuffled, augmented).</param>
    /// <param name="test">Evaluation batches, or null.</param>
    /// <param name="runDir">Run folder for metrics and checkpoints.</param>
    /// <param name="resume">Continue from <c>runDir/last.ckpt</c> when it exists.</param>
    /// <param name="device">Compute device.</param>
    /// <param name="progress">Live progress, or null.</param>
    /// <param name="cancellationToken">Stops between steps; the last epoch checkpoint stays.</param>
    /// <exception cref="NonFiniteLossException">A loss became NaN/∞: metrics so far are written, the last good checkpoint kept.</exception>
    public IReadOnlyList<EpochMetrics> Train(ClassificationTrainOptions options, IClassificationBatches train, IClassificationBatches? test,
        string runDir, bool resume, Device device, IProgress<TrainProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        Directory.CreateDirectory(runDir);
        using var model = ClassificationModel.Create(options.Arch, options.Method, options.K, options.Split, train.Classes,
            train.SampleShape, options.Seed, options.EmaMomentum, device, network =>
            {
                if (options.Pretrained is not null)
                {
                    var report = PretrainedWeights.Load(network, options.Pretrained, options.StrictPretrained);
                    Log?.Invoke($"--pretrained {options.Pretrained}: {report.Summary}");
                }
                if (options.FreezeAt > 0)
                    Log?.Invoke($"frozen units: {string.Join(", ", FineTuner.FreezeAt(network, options.FreezeAt).Select(network.UnitName))}");
            }, options.RecomputeBlocks, options.InitializeCopiesFromUnit, options.RecomputeSlack);
        int batches = options.MaxBatchesPerEpoch > 0 ? Math.Min(options.MaxBatchesPerEpoch, train.BatchesPerEpoch) : train.BatchesPerEpoch;
        long total = (long)batches * options.Epochs;
        var trainerOptions = new TrainerOptions
        {
            Optimizer = options.Optimizer,
            Schedule = new LearningRateSchedule
            {
                Kind = ScheduleKind.Cosine, BaseLr = options.LearningRate, TotalSteps = total,
                WarmupSteps = (long)Math.Round(options.WarmupEpochs * batches),
            },
            WeightDecay = options.WeightDecay,
            StepEachBlock = options.StepEachBlock,
            MaxGradNorm = options.ClipGradNorm,
            Seed = options.Seed,
            LrScaleByName = options.BackboneLrScale == 1.0 ? null
                : name => name.StartsWith("model.", StringComparison.Ordinal) && !name.StartsWith("model.fc.", StringComparison.Ordinal) ? options.BackboneLrScale : 1.0,
        };
        using var trainer = new LocalTrainer<Tensor>(model.Learner, trainerOptions);
        var meta = model.Meta(options.Arch);
        string last = Path.Combine(runDir, LastCheckpoint);
        var history = new List<EpochMetrics>();
        string metricsPath = Path.Combine(runDir, MetricsFile);
        if (resume && File.Exists(last))
        {
            trainer.Load(last);
            if (File.Exists(metricsPath))
                history.AddRange(MetricsJson.ReadEpochs<EpochMetrics>(metricsPath));
            history.RemoveAll(m => m.Epoch >= trainer.Epoch);
        }
        double best = history.Where(h => h.TestAccuracy.HasValue).Select(h => h.TestAccuracy!.Value).DefaultIfEmpty(double.NegativeInfinity).Max();
        var runClock = Stopwatch.StartNew();
        long stepsAtStart = trainer.Step;

        for (int epoch = trainer.Epoch; epoch < options.Epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            var sums = new double[model.Learner.Plan.K];
            model.Task.Head.ResetTrainAccuracy();
            var stepTimes = new List<double>();
            var gradNorms = new GradNormLog(sums.Length, options.ClipGradNorm);
            long seen = 0;
            int b = 0;
            StepResult? lastResult = null;
            foreach (var batch in train.Epoch(epoch, cancellationToken).Take(batches))
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
                        WriteMetrics(metricsPath, options, model, history, failed: true);
                        throw;
                    }
                    stepTimes.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                    gradNorms.Add(trainer.LastGradNorms);
                    for (int k = 0; k < sums.Length; k++) sums[k] += lastResult.BlockLosses[k];
                    seen += batch.Count;
                    b++;
                    double done = trainer.Step - stepsAtStart;
                    double rate = seen / Math.Max(1e-9, epochClock.Elapsed.TotalSeconds);
                    var eta = TimeSpan.FromSeconds(runClock.Elapsed.TotalSeconds / Math.Max(1, done) * (total - trainer.Step));
                    progress?.Report(new TrainProgress(epoch, options.Epochs, b, batches, rate, eta,
                        sums.Select(s => s / b).ToArray(), lastResult.S, trainer.CurrentLr));
                }
            }
            // The epoch's evaluation always completes, so that its checkpoint and metrics are written together.
            EvaluationResult? eval = test is null ? null : Evaluate(model, test, device, CancellationToken.None);
            var metrics = new EpochMetrics
            {
                Epoch = epoch,
                TrainLossPerBlock = sums.Select(s => s / Math.Max(1, b)).ToArray(),
                S = lastResult?.S ?? [],
                TestAccuracy = eval?.Accuracy,
                TestLoss = eval?.Loss,
                TrainAccuracy = model.Task.Head.TrainAccuracy,
                StepTimeMsMedian = RunStatistics.Median(stepTimes),
                GradNormMedianPerBlock = gradNorms.MedianPerBlock(),
                ClippedStepsPerBlock = gradNorms.ClippedStepsPerBlock(),
                ImagesPerSecond = seen / Math.Max(1e-9, epochClock.Elapsed.TotalSeconds),
                PeakRssMiB = Memory.PeakRssMiB(),
                LearningRate = trainer.CurrentLr,
                Seconds = epochClock.Elapsed.TotalSeconds,
            };
            trainer.Epoch = epoch + 1;
            trainer.Save(last, meta);
            if (eval is not null && eval.Accuracy > best)
            {
                best = eval.Accuracy;
                File.Copy(last, Path.Combine(runDir, BestCheckpoint + ".tmp"), overwrite: true);
                File.Move(Path.Combine(runDir, BestCheckpoint + ".tmp"), Path.Combine(runDir, BestCheckpoint), overwrite: true);
            }
            history.Add(metrics);
            WriteMetrics(metricsPath, options, model, history, failed: false);
        }
        return history;
    }

    /// <summary>Top-1 accuracy (percent), mean loss and per-class accuracy of a model on a data set.</summary>
    public static EvaluationResult Evaluate(ClassificationModel model, IClassificationBatches data, Device device, CancellationToken cancellationToken = default)
    {
        model.Learner.eval();
        int classes = model.Classes.Count;
        var perClassCorrect = new long[classes];
        var perClassTotal = new long[classes];
        double lossSum = 0;
        long n = 0;
        using (torch.no_grad())
        {
            foreach (var batch in data.Epoch(0, cancellationToken))
            {
                using (batch)
                using (Man.Runtime.CollectorPause.Enter()) // TorchSharp's temporary scalars stay alive (no collection mid-call)
                using (var scope = NewDisposeScope())
                {
                    var y = batch.Labels.to(device);
                    var logits = model.Logits(batch.Images.to(device));
                    lossSum += nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).ToDouble();
                    var pred = logits.argmax(1);
                    var hits = pred.eq(y).to(ScalarType.Int64);
                    var total = torch.bincount(y, minlength: classes).cpu().data<long>().ToArray();
                    var right = torch.bincount(y, hits, minlength: classes).cpu().data<double>().ToArray();
                    for (int c = 0; c < classes; c++)
                    {
                        perClassTotal[c] += total[c];
                        perClassCorrect[c] += (long)Math.Round(right[c]);
                    }
                    n += batch.Count;
                }
            }
        }
        model.Learner.train();
        if (n == 0) throw new InvalidOperationException("The evaluation data set is empty.");
        double accuracy = 100.0 * perClassCorrect.Sum() / n;
        var perClass = Enumerable.Range(0, classes).Select(c => perClassTotal[c] > 0 ? 100.0 * perClassCorrect[c] / perClassTotal[c] : double.NaN).ToArray();
        return new EvaluationResult(accuracy, lossSum / n, (int)n, perClass, model.Classes);
    }

    private static void WriteMetrics(string path, ClassificationTrainOptions options, ClassificationModel model, List<EpochMetrics> history, bool failed)
    {
        var doc = new JObject
        {
            ["task"] = "classify",
            ["arch"] = options.Arch,
            ["method"] = options.Method.Name(),
            ["k"] = model.Learner.Plan.K,
            ["split"] = model.Learner.Plan.ToString(b => model.Learner.Options.Recomputes(b, model.Learner.Plan.K)),
            ["recompute_blocks"] = options.RecomputeBlocks,
            ["recompute_slack"] = options.RecomputeSlack,
            ["step_each_block"] = options.StepEachBlock,
            ["clip_grad_norm"] = options.ClipGradNorm,
            ["init_copies_from_unit"] = options.InitializeCopiesFromUnit,
            ["units"] = model.Learner.Plan.UnitCount,
            ["seed"] = options.Seed,
            ["epochs_planned"] = options.Epochs,
            ["lr"] = options.LearningRate,
            ["stopped_on_non_finite_loss"] = failed,
            ["torch_threads"] = torch.get_num_threads(),
            ["epochs"] = MetricsJson.ToArray(history),
        };
        string tmp = path + ".tmp";
        File.WriteAllText(tmp, doc.ToString(Formatting.Indented));
        File.Move(tmp, path, overwrite: true);
    }

}
