using Man.Testing;
using Man.Local;
using Man.Local.Training;
using Man.Vision.Data.Records;
using Man.Vision.Detection.Training;
using Newtonsoft.Json.Linq;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Training;

public sealed class DetectionRunnerTests(ITestOutputHelper output)
{
    [Fact]
    public void ATinyRunLearnsAndWritesMetricsAndCheckpoints()
    {
        using var run = TinyDetectionRun.RunDir("learn");
        var options = TinyDetectionRun.Options(LocalMethod.E2E, 1, epochs: 3);
        var history = new DetectionRunner().Train(options, TinyDetectionRun.Source, run, resume: false, CPU);
        foreach (var h in history)
            output.WriteLine($"epoch {h.Epoch}: loss {h.TrainLossPerBlock[^1]:F3} ({string.Join(", ", h.Losses.Select(kv => $"{kv.Key} {kv.Value:F3}"))}), " +
                             $"AP {h.Coco["AP"]:F4} AP50 {h.Coco["AP50"]:F4}, step {h.StepTimeMsMedian:F0} ms, train {h.Seconds:F1} s, eval {h.EvalSeconds:F1} s");
        Assert.Equal(3, history.Count);
        Assert.True(File.Exists(Path.Combine(run, DetectionRunner.LastCheckpoint)));
        Assert.True(File.Exists(Path.Combine(run, DetectionRunner.BestCheckpoint)));
        var metrics = JObject.Parse(File.ReadAllText(Path.Combine(run, DetectionRunner.MetricsFile)));
        Assert.Equal("detect", metrics.Value<string>("task"));
        Assert.False(metrics.Value<bool>("stopped_on_non_finite_loss"));
        Assert.Equal(3, ((JArray)metrics["epochs"]!).Count);
        foreach (var key in Man.Vision.Detection.Evaluation.CocoEvalResult.StatNames) Assert.NotNull(metrics["epochs"]![2]!["Coco"]![key]);
        Assert.Equal(["loss_box_reg", "loss_classifier", "loss_objectness", "loss_rpn_box_reg"], history[0].Losses.Keys.Order());
        Assert.True(history[^1].PeakRssMiB > 0);
        // Measured (seed 7): loss 1.84 → 1.58 (the box loss grows as the RPN starts to propose positives), objectness
        // 0.36 → 0.06, AP 0.037, AP50 0.12; an untrained detector scores AP50 ≈ 0.
        Assert.True(history[^1].TrainLossPerBlock[^1] < 0.9 * history[0].TrainLossPerBlock[^1],
            $"loss {history[0].TrainLossPerBlock[^1]:F3} → {history[^1].TrainLossPerBlock[^1]:F3}");
        Assert.True(history[^1].Losses["loss_objectness"] < 0.5 * history[0].Losses["loss_objectness"]);
        Assert.True(history[^1].Coco["AP50"] > 0.05, $"AP50 {history[^1].Coco["AP50"]:F4}");
        Assert.True(history[^1].Coco["AP"] > 0.01, $"AP {history[^1].Coco["AP"]:F4}");

        // The checkpoint rebuilds the same detector: its evaluation gives the last epoch's numbers.
        using var model = DetectionModel.Load(Path.Combine(run, DetectionRunner.LastCheckpoint));
        long regions = Man.Runtime.CollectorPause.RegionsStarted;
        var eval = Inference.DetectionInference.Evaluate(model.Detector, TinyDetectionRun.Source.Val, voc: false, batchSize: 1, workers: 1);
        Assert.Equal(history[^1].Coco["AP"], eval.AP, 6);
        // Each image's forward pass ran in a no-GC region (TorchSharp's temporary scalars stay alive while the loader works).
        if (Man.Runtime.CollectorPause.Enabled)
            Assert.Equal(regions + TinyDetectionRun.Source.Val.Images.Count, Man.Runtime.CollectorPause.RegionsStarted);
    }

    [Fact]
    public void TheEarlyLrScaleReachesOnlyTheEarlyBlocksBackboneUnits()
    {
        var config = new DetectionModelConfig("resnet18", LocalMethod.ManPlusPlus, 4, "stages", ["a"], [1], 64, 64, 5, false);
        using var model = DetectionModel.Create(config, seed: 0);
        var scale = DetectionRunner.EarlyBlockLrScale(model.Learner, 0.1)!;
        Assert.Null(DetectionRunner.EarlyBlockLrScale(model.Learner, 1.0));
        var names = model.Learner.named_parameters().Select(p => p.name).ToList();
        // stages K = 4: stem+layer1 | layer2 | layer3 | layer4 (+ FPN, RPN, RoI heads).
        static bool Early(string n) => n.StartsWith("model.conv1.", StringComparison.Ordinal) || n.StartsWith("model.bn1.", StringComparison.Ordinal)
            || n.StartsWith("model.layer1.", StringComparison.Ordinal) || n.StartsWith("model.layer2.", StringComparison.Ordinal)
            || n.StartsWith("model.layer3.", StringComparison.Ordinal);
        Assert.Equal(3 + 6 * 6 + 2 * 3, names.Count(Early)); // stem conv + bn (3), 6 BasicBlocks of 2 × (conv + bn) (6 each), 2 downsamples (3 each)
        Assert.All(names, n => Assert.Equal(Early(n) ? 0.1 : 1.0, scale(n)));
        Assert.Contains(names, n => n.StartsWith("model.layer4.", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("aux.", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("head.", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => (TinyDetectionRun.Options(LocalMethod.E2E, 1, 1) with { EarlyLrScale = 0.5 }).Validate());
        Assert.Throws<ArgumentException>(() => (TinyDetectionRun.Options(LocalMethod.ManPlusPlus, 4, 1) with { EarlyLrScale = -1 }).Validate());
    }

    [Fact]
    public void GradientClippingBoundsEachBlocksStepAndIsRecorded()
    {
        // One plain SGD step (no momentum, weight decay or warm-up): each block moves by lr × its clipped gradient,
        // so the whole step is at most sqrt(K) · lr · max; without clipping the same step is far longer.
        const double lr = 0.01, max = 0.1;
        var options = TinyDetectionRun.Options(LocalMethod.ManPlusPlus, 4, epochs: 1) with
        {
            MaxBatchesPerEpoch = 1, MaxEvalImages = 1, WarmupIterations = 0, Momentum = 0, WeightDecay = 0, LearningRate = lr,
        };
        double StepLength(double? clip, out JObject metrics)
        {
            using var run = TinyDetectionRun.RunDir("clip");
            new DetectionRunner().Train(options with { ClipGradNorm = clip }, TinyDetectionRun.Source, run, resume: false, CPU);
            metrics = JObject.Parse(File.ReadAllText(Path.Combine(run, DetectionRunner.MetricsFile)));
            using var trained = DetectionModel.Load(Path.Combine(run, DetectionRunner.LastCheckpoint));
            using var initial = DetectionModel.Create(trained.Config, options.Seed);
            var before = initial.Learner.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            double sq = 0;
            foreach (var (name, p) in trained.Learner.named_parameters())
                if (p.requires_grad) sq += (p - before[name]).pow(2).sum().item<float>();
            return Math.Sqrt(sq);
        }
        double clipped = StepLength(max, out var clippedMetrics), free = StepLength(null, out var freeMetrics);
        output.WriteLine($"step length clipped {clipped:G4}, unclipped {free:G4}");
        Assert.Equal(max, clippedMetrics.Value<double>("clip_grad_norm"));
        Assert.Equal(JTokenType.Null, freeMetrics["clip_grad_norm"]!.Type);
        // The epoch reports each block's gradient norm before clipping and how many steps clipped it (one step, all four).
        var epoch = clippedMetrics["epochs"]![0]!;
        Assert.Equal([1, 1, 1, 1], epoch["ClippedStepsPerBlock"]!.ToObject<int[]>()!);
        Assert.All(epoch["GradNormMedianPerBlock"]!.ToObject<double[]>()!, n => Assert.True(n > max, $"norm {n}"));
        Assert.Equal(JTokenType.Null, freeMetrics["epochs"]![0]!["ClippedStepsPerBlock"]!.Type);
        Assert.InRange(clipped, lr * max, 2 * lr * max * 1.001); // ≤ sqrt(4) · lr · max (float32 rounding aside); at least one block is clipped
        Assert.True(free > 10 * clipped, $"unclipped step {free} against clipped {clipped}");
        Assert.Throws<ArgumentException>(() => (options with { ClipGradNorm = 0 }).Validate());
        Assert.Throws<ArgumentException>(() => (options with { ClipGradNorm = double.PositiveInfinity }).Validate());
    }

    [Fact]
    public void AZeroEarlyLrScaleKeepsTheEarlyBlocksWeightsButTrainsTheRest()
    {
        var options = TinyDetectionRun.Options(LocalMethod.ManPlusPlus, 4, epochs: 1) with { MaxBatchesPerEpoch = 2, MaxEvalImages = 2, WarmupIterations = 1, EarlyLrScale = 0 };
        using var run = TinyDetectionRun.RunDir("early-lr0");
        new DetectionRunner().Train(options, TinyDetectionRun.Source, run, resume: false, CPU);
        var metrics = JObject.Parse(File.ReadAllText(Path.Combine(run, DetectionRunner.MetricsFile)));
        Assert.Equal(0.0, metrics.Value<double>("early_lr_scale"));
        using var trained = DetectionModel.Load(Path.Combine(run, DetectionRunner.LastCheckpoint));
        using var initial = DetectionModel.Create(trained.Config, options.Seed);
        var before = initial.Learner.state_dict();
        int same = 0, moved = 0;
        foreach (var (name, t) in trained.Learner.state_dict())
        {
            if (!name.StartsWith("model.", StringComparison.Ordinal) || name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) continue;
            bool equal = t.equal(before[name]).all().item<bool>();
            bool early = !name.StartsWith("model.layer4.", StringComparison.Ordinal);
            bool stat = name.EndsWith("running_mean", StringComparison.Ordinal) || name.EndsWith("running_var", StringComparison.Ordinal);
            if (early && !stat) { Assert.True(equal, $"{name} moved"); same++; }
            else { Assert.False(equal, $"{name} did not move"); moved++; } // layer4 trains; batch-norm statistics follow the data everywhere
        }
        Assert.Equal(3 + 6 * 6 + 2 * 3, same); // every weight of stem..layer3 (as counted in the test above)
        Assert.True(moved > 20, $"{moved} moved");
        Assert.Empty((JArray)metrics["warnings"]!);

        // The scale is part of the run: resuming with another one is refused, naming both and the checkpoint.
        var e = Assert.Throws<CheckpointException>(() =>
            new DetectionRunner().Train(options with { Epochs = 2, EarlyLrScale = 0.5 }, TinyDetectionRun.Source, run, resume: true, CPU));
        output.WriteLine(e.Message);
        Assert.Contains(DetectionRunner.LastCheckpoint, e.Message);
        Assert.Contains("--early-lr-scale 0;", e.Message);
        Assert.Contains("asks for 0.5", e.Message);
    }

    [Fact]
    public void CopiesInitialisedFromTheUnitStartAsThatUnitsWeights()
    {
        // balanced on ResNet-18 at 64 px: blocks stem | layer1.0 | layer1.1 | rest, so the early blocks' LB and EMA copy
        // layer1.0, layer1.1 and layer2.0 (the first unit of the next block).
        string[] follows = ["model.layer1.0.", "model.layer1.1.", "model.layer2.0."];
        foreach (bool fromUnit in new[] { true, false })
        {
            var config = new DetectionModelConfig("resnet18", LocalMethod.ManPlusPlus, 4, "balanced", ["a"], [1], 64, 64, 5, false, InitCopiesFromUnit: fromUnit);
            using var model = DetectionModel.Create(config, seed: 0);
            Assert.Equal([0, 1, 2, 3], model.Learner.Plan.Starts);
            var weights = model.Learner.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            for (int b = 0; b < 3; b++)
            {
                var aux = model.Learner.Auxiliaries[b];
                int equal = 0, count = 0;
                foreach (var copy in new[] { aux.Learnable!, aux.Momentum! })
                    foreach (var (name, p) in copy.named_parameters())
                    {
                        if (p.dim() < 2) continue; // batch norm's fresh 1s and 0s equal the unit's untrained ones anyway
                        count++;
                        if (p.equal(weights[follows[b] + name]).all().item<bool>()) equal++;
                    }
                Assert.True(count >= 4, $"block {b}: {count} copied convolution weights");
                Assert.Equal(fromUnit ? count : 0, equal);
            }
            Assert.Equal(fromUnit ? "true" : "false", config.ToMeta()["init_copies_from_unit"]);
        }
        Assert.Throws<ArgumentException>(() => (TinyDetectionRun.Options(LocalMethod.Greedy, 4, 1) with { InitializeCopiesFromUnit = true }).Validate());
        Assert.Throws<ArgumentException>(() => (TinyDetectionRun.Options(LocalMethod.E2E, 1, 1) with { InitializeCopiesFromUnit = true }).Validate());
        (TinyDetectionRun.Options(LocalMethod.Man, 4, 1) with { InitializeCopiesFromUnit = true }).Validate();
    }

    [Fact]
    public void FreezingTheEarlyBlocksAtAnEpochStopsTheirLossesThenAndIsKeptOnResume()
    {
        // Milestones at the freeze and after it: each new schedule segment builds a new optimizer over the same parameters.
        var options = TinyDetectionRun.Options(LocalMethod.ManPlusPlus, 3, epochs: 3) with { MaxBatchesPerEpoch = 1, MaxEvalImages = 1, Split = "balanced", FreezeEarlyAt = 1, Milestones = [1, 2] };
        using var run = TinyDetectionRun.RunDir("freeze");
        var history = new DetectionRunner().Train(options with { Epochs = 2 }, TinyDetectionRun.Source, run, resume: false, CPU);
        // Epoch 0 trains every block; from epoch 1 the early blocks run without their auxiliary losses.
        Assert.All(history[0].TrainLossPerBlock, v => Assert.True(double.IsFinite(v)));
        Assert.True(double.IsNaN(history[1].TrainLossPerBlock[0]) && double.IsNaN(history[1].TrainLossPerBlock[1]));
        Assert.True(double.IsFinite(history[1].TrainLossPerBlock[2]));
        var metrics = JObject.Parse(File.ReadAllText(Path.Combine(run, DetectionRunner.MetricsFile)));
        Assert.Equal(1, metrics.Value<int>("freeze_early_at"));
        using (var before = DetectionModel.Load(Path.Combine(run, DetectionRunner.LastCheckpoint)))
        {
            // Resuming applies the freeze again at once (the rebuilt model starts with every unit trainable).
            var resumed = new DetectionRunner().Train(options, TinyDetectionRun.Source, run, resume: true, CPU);
            Assert.Equal(3, resumed.Count);
            Assert.True(double.IsNaN(resumed[2].TrainLossPerBlock[0]));
            using var after = DetectionModel.Load(Path.Combine(run, DetectionRunner.LastCheckpoint));
            var early = before.Learner.ModelParameterBlocks().Where(kv => kv.Value < 2).Select(kv => kv.Key).ToHashSet();
            var a = before.Learner.state_dict();
            var b = after.Learner.state_dict();
            Assert.All(early, name => Assert.True(a[name].equal(b[name]).all().item<bool>(), name));
            Assert.Contains(before.Learner.ModelParameterBlocks().Where(kv => kv.Value == 2), kv => !a[kv.Key].equal(b[kv.Key]).all().item<bool>());
        }
        var refused = Assert.Throws<Man.Local.Training.CheckpointException>(() =>
            new DetectionRunner().Train(options with { Epochs = 4, FreezeEarlyAt = 2 }, TinyDetectionRun.Source, run, resume: true, CPU));
        Assert.Contains("--freeze-early-at 1", refused.Message);
        Assert.Throws<ArgumentException>(() => (options with { FreezeEarlyAt = 3 }).Validate());
        Assert.Throws<ArgumentException>(() => (options with { FreezeEarlyAt = 0 }).Validate());
        Assert.Throws<ArgumentException>(() => (TinyDetectionRun.Options(LocalMethod.E2E, 1, 3) with { FreezeEarlyAt = 1 }).Validate());
    }

    [Fact]
    public void EarlyBlocksOfOnlyFrozenUnitsAreReportedAndWarnedAbout()
    {
        int[] Idle(string split, int trainable, int[]? starts = null)
        {
            var config = new DetectionModelConfig("resnet18", LocalMethod.ManPlusPlus, 4, split, ["a"], [1], 64, 64, trainable, false);
            using var model = DetectionModel.Create(config, seed: 0);
            output.WriteLine($"{split}, trainable layers {trainable}: {model.Learner.Plan}");
            if (starts is not null) Assert.Equal(starts, model.Learner.Plan.Starts);
            return [.. model.Learner.IdleEarlyBlocks()];
        }
        // ResNet-18 units: 0 stem, 1-2 layer1, 3-4 layer2, 5-6 layer3, 7-8 layer4; 3 trainable layers freeze stem and layer1.
        Assert.Equal([0, 1, 2], Idle("0,1,2,3", 3));
        Assert.Equal([0], Idle("0,3,4,5", 3));
        // balanced and uniform plan over the trainable units: the frozen prefix joins the first block.
        Assert.Empty(Idle("balanced", 3, [0, 4, 5, 6]));
        Assert.Empty(Idle("uniform", 3, [0, 5, 7, 8]));
        Assert.Contains("trainable units", Assert.Throws<ArgumentException>(() => Idle("balanced", 1)).Message); // layer4's 2 units cannot make 4 blocks
        Assert.Empty(Idle("0,3,4,5", 4));
        Assert.Empty(Idle("balanced", 5));
        Assert.Equal([0, 1, 2], Idle("stages", 1)); // only layer4 trains: stem+layer1, layer2 and layer3 cannot

        var options = TinyDetectionRun.Options(LocalMethod.Greedy, 2, epochs: 1) with { MaxBatchesPerEpoch = 1, MaxEvalImages = 1, Split = "0,3", TrainableLayers = 3 };
        using var run = TinyDetectionRun.RunDir("idle");
        var runner = new DetectionRunner();
        var heard = new List<string>();
        runner.Warning += heard.Add;
        runner.Train(options, TinyDetectionRun.Source, run, resume: false, CPU);
        string warning = Assert.Single(heard);
        output.WriteLine(warning);
        Assert.Contains("early block 0 ", warning);
        Assert.Contains("trainable layers 3", warning);
        var metrics = JObject.Parse(File.ReadAllText(Path.Combine(run, DetectionRunner.MetricsFile)));
        Assert.Equal(warning, Assert.Single((JArray)metrics["warnings"]!)!.Value<string>());
        // The idle block has no loss: JSON null (not the string "NaN"), read back as NaN; the last block's is a number.
        var losses = (JArray)metrics["epochs"]![0]!["TrainLossPerBlock"]!;
        Assert.Equal(JTokenType.Null, losses[0].Type);
        Assert.Equal(JTokenType.Float, losses[1].Type);
        var read = Assert.Single(Man.Local.Training.MetricsJson.ReadEpochs<DetectionEpochMetrics>(Path.Combine(run, DetectionRunner.MetricsFile)));
        Assert.True(double.IsNaN(read.TrainLossPerBlock[0]));
        Assert.Equal(losses[1].Value<double>(), read.TrainLossPerBlock[1]);
    }

    [Fact]
    public void PreciseBatchNormChangesOnlyTheStatisticsAndARecomputedCheckpointMatchesIt()
    {
        var options = TinyDetectionRun.Options(LocalMethod.ManPlusPlus, 4, epochs: 2) with { MaxBatchesPerEpoch = 2, MaxEvalImages = 3, WarmupIterations = 2 };
        using var plainDir = TinyDetectionRun.RunDir("plain-bn");
        var plain = new DetectionRunner().Train(options, TinyDetectionRun.Source, plainDir, resume: false, CPU);
        using var preciseDir = TinyDetectionRun.RunDir("precise-bn");
        var precise = new DetectionRunner().Train(options with { PreciseBnBatches = 3 }, TinyDetectionRun.Source, preciseDir, resume: false, CPU);

        // Training mode normalises with batch statistics: the losses of the second epoch, after a precise pass, are the same.
        for (int b = 0; b < 4; b++) Assert.Equal(plain[1].TrainLossPerBlock[b], precise[1].TrainLossPerBlock[b], 9);
        Assert.All(plain, m => Assert.Equal(0, m.PreciseBnBatches));
        Assert.All(precise, m => Assert.Equal(3, m.PreciseBnBatches));
        Assert.All(precise, m => Assert.True(m.PreciseBnSeconds > 0));
        Assert.Equal(3, JObject.Parse(File.ReadAllText(Path.Combine(preciseDir, DetectionRunner.MetricsFile))).Value<int>("precise_bn"));

        using var fromPlain = DetectionModel.Load(Path.Combine(plainDir, DetectionRunner.LastCheckpoint));
        using var fromPrecise = DetectionModel.Load(Path.Combine(preciseDir, DetectionRunner.LastCheckpoint));
        var plainParams = fromPlain.Network.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in fromPrecise.Network.named_parameters())
            Assert.True(p.allclose(plainParams[name], rtol: 0, atol: 1e-6), $"parameter {name} differs");
        var plainBuffers = fromPlain.Network.named_buffers().Where(b => b.name.EndsWith("running_var", StringComparison.Ordinal)).ToDictionary(b => b.name, b => b.buffer.clone());
        Assert.Equal(20, plainBuffers.Count);

        // The stored loader values rebuild the same pass on the plain checkpoint: the same statistics as the precise run's.
        var loaderOf = DetectionRunner.TrainingLoaderOf(Path.Combine(plainDir, DetectionRunner.LastCheckpoint));
        Assert.Equal((4, 7L, true, false, 1), (loaderOf.BatchSize, loaderOf.Seed, loaderOf.Flip, loaderOf.Jitter, loaderOf.Epoch));
        var (layers, batches) = DetectionRunner.RecomputeBatchNorm(fromPlain, TinyDetectionRun.Source, 3, loaderOf.BatchSize!.Value, loaderOf.Seed!.Value,
            loaderOf.Epoch, CPU, workers: 1, loaderOf.Flip!.Value, loaderOf.Jitter!.Value);
        Assert.Equal((20, 3), (layers, batches));
        var preciseBuffers = fromPrecise.Network.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        double moved = 0;
        foreach (var (name, buffer) in fromPlain.Network.named_buffers().Where(b => b.name.Contains("running_")))
        {
            Assert.True(buffer.allclose(preciseBuffers[name], rtol: 1e-5, atol: 1e-6), $"buffer {name} differs from the precise run's");
            if (plainBuffers.TryGetValue(name, out var before)) moved = Math.Max(moved, (buffer - before).abs().max().item<float>() / before.abs().max().item<float>());
        }
        // …and they are not the moving averages the plain run left (which differ by far more than the tolerance).
        output.WriteLine($"largest relative change of a running variance: {moved:F3}");
        Assert.True(moved > 1e-2, $"precise statistics moved the variances by at most {moved}");

        // The precise run's evaluation is that of its checkpoint.
        var eval = Inference.DetectionInference.Evaluate(fromPrecise.Detector, TinyDetectionRun.Source.Val, voc: false, batchSize: 1, workers: 1, maxImages: 3);
        Assert.Equal(precise[^1].Coco["AP"], eval.AP, 6);
        Assert.Throws<ArgumentException>(() => (options with { PreciseBnBatches = -1 }).Validate());
    }

    [Fact]
    public void AResumedRunContinuesExactlyAsTheUninterruptedOne()
    {
        var options = TinyDetectionRun.Options(LocalMethod.ManPlusPlus, 4, epochs: 2) with { MaxBatchesPerEpoch = 2, MaxEvalImages = 2, WarmupIterations = 2 };
        using var straight = TinyDetectionRun.RunDir("straight");
        var full = new DetectionRunner().Train(options, TinyDetectionRun.Source, straight, resume: false, CPU);

        using var split = TinyDetectionRun.RunDir("split");
        var first = new DetectionRunner().Train(options with { Epochs = 1 }, TinyDetectionRun.Source, split, resume: false, CPU);
        Assert.Single(first);
        var resumed = new DetectionRunner().Train(options, TinyDetectionRun.Source, split, resume: true, CPU);
        Assert.Equal(2, resumed.Count);
        output.WriteLine($"epoch 2 straight: [{string.Join(", ", full[1].TrainLossPerBlock)}], resumed: [{string.Join(", ", resumed[1].TrainLossPerBlock)}]");
        Assert.Equal(4, full[1].TrainLossPerBlock.Length);
        for (int b = 0; b < 4; b++) Assert.Equal(full[1].TrainLossPerBlock[b], resumed[1].TrainLossPerBlock[b], 9);
        foreach (var (name, v) in full[1].Losses) Assert.Equal(v, resumed[1].Losses[name], 9);
        Assert.Equal(full[1].S, resumed[1].S);
        Assert.Equal(full[0].TrainLossPerBlock, resumed[0].TrainLossPerBlock);
        Assert.Equal(full[1].Coco["AP"], resumed[1].Coco["AP"], 9);
    }

    [Fact]
    public void ImagesWithoutBoxesAndCrowdOnlyImagesTrainAndEvaluate()
    {
        var source = TinyDetectionRun.Source;
        var withObjects = source.Train.Images.Where(r => r.Objects.Count > 0).Take(8).ToList();
        var images = withObjects.Select((r, i) => i < 4
            ? r with { Objects = r.Objects.Select(o => o with { IsCrowd = true }).ToList() }
            : r with { Objects = [] }).ToList();
        var train = source.Train with { Images = images };
        var val = source.Val with { Images = [.. source.Val.Images.Take(2), images[0], images[5]] };
        var data = source with { Train = train, Val = val };
        using var run = TinyDetectionRun.RunDir("empty");
        var options = TinyDetectionRun.Options(LocalMethod.Greedy, 2, epochs: 1) with { BatchSize = 4, Split = "balanced" };
        var history = new DetectionRunner().Train(options, data, run, resume: false, CPU);
        var h = Assert.Single(history);
        Assert.Equal(2, h.Steps);
        Assert.All(h.TrainLossPerBlock, v => Assert.True(double.IsFinite(v)));
        // Without any non-crowd object there is nothing to regress: the box losses are exactly zero.
        Assert.Equal(0, h.Losses["loss_box_reg"]);
        Assert.Equal(0, h.Losses["loss_rpn_box_reg"]);
        Assert.True(h.Losses["loss_classifier"] > 0 && h.Losses["loss_objectness"] > 0);
        Assert.Equal(4, h.EvalImages);
    }

    [Fact]
    public void ANonFiniteLossStopsTheRunKeepingTheLastGoodCheckpointAndTheMetrics()
    {
        var options = TinyDetectionRun.Options(LocalMethod.E2E, 1, epochs: 1) with { MaxBatchesPerEpoch = 1, MaxEvalImages = 2 };
        using var run = TinyDetectionRun.RunDir("nan");
        new DetectionRunner().Train(options, TinyDetectionRun.Source, run, resume: false, CPU);
        string last = Path.Combine(run, DetectionRunner.LastCheckpoint);
        byte[] good = File.ReadAllBytes(last);

        var exploding = options with { Epochs = 3, MaxBatchesPerEpoch = 4, LearningRate = 1e12, WarmupIterations = 0 };
        var e = Assert.Throws<NonFiniteLossException>(() => new DetectionRunner().Train(exploding, TinyDetectionRun.Source, run, resume: true, CPU));
        output.WriteLine(e.Message);
        Assert.Equal(good, File.ReadAllBytes(last));
        var metrics = JObject.Parse(File.ReadAllText(Path.Combine(run, DetectionRunner.MetricsFile)));
        Assert.True(metrics.Value<bool>("stopped_on_non_finite_loss"));
        Assert.Single((JArray)metrics["epochs"]!);
    }

    [Fact]
    public void ResumingWithAnotherBackboneIsRefusedWithTheCheckpointNamed()
    {
        var options = TinyDetectionRun.Options(LocalMethod.E2E, 1, epochs: 1) with { MaxBatchesPerEpoch = 1, MaxEvalImages = 1 };
        using var run = TinyDetectionRun.RunDir("mismatch");
        new DetectionRunner().Train(options, TinyDetectionRun.Source, run, resume: false, CPU);
        var e = Assert.Throws<CheckpointException>(() =>
            new DetectionRunner().Train(options with { Backbone = "resnet34", Epochs = 2 }, TinyDetectionRun.Source, run, resume: true, CPU));
        Assert.Contains(DetectionRunner.LastCheckpoint, e.Message);
        Assert.Contains("resnet18", e.Message);
        // The FPN's inputs are part of the model too.
        e = Assert.Throws<CheckpointException>(() =>
            new DetectionRunner().Train(options with { ReturnedLayers = [2, 3, 4], Epochs = 2 }, TinyDetectionRun.Source, run, resume: true, CPU));
        Assert.Contains("FPN over layers 1,2,3,4", e.Message);
        Assert.Contains("FPN over layers 2,3,4", e.Message);
    }

    [Fact]
    public void TheStagesSplitCutsAtTheLastStages()
    {
        var data = TinyDetectionRun.Source;
        var config = new DetectionModelConfig("resnet18", LocalMethod.ManPlusPlus, 4, "stages", data.Classes, data.CategoryIds, 64, 64, 5, false);
        using var model = DetectionModel.Create(config, 0);
        // resnet18 units: stem, layer1 (1-2), layer2 (3-4), layer3 (5-6), layer4 (7-8).
        Assert.Equal([0, 3, 5, 7], model.Learner.Plan.Starts);
        var two = DetectionModel.MakePlan(model.Network, config with { K = 2 });
        Assert.Equal([0, 7], two.Starts);
        Assert.Throws<ArgumentException>(() => DetectionModel.MakePlan(model.Network, config with { K = 5 }));
        Assert.Equal([0, 2, 6], DetectionModel.MakePlan(model.Network, config with { K = 3, Split = "0,2,6" }).Starts);
    }
}
