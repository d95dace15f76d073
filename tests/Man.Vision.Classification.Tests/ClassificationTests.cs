using Man.Local;
using Man.Testing;
using Man.Vision.Classification.Data;
using Man.Vision.Classification.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Classification.Tests;

public sealed class ClassificationTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("man-cls-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Synthetic_shapes_are_deterministic_balanced_and_distinct()
    {
        using var scope = NewDisposeScope();
        var (a, la) = SyntheticShapes.Generate(200, 32, seed: 3);
        var (b, lb) = SyntheticShapes.Generate(200, 32, seed: 3);
        var (c, _) = SyntheticShapes.Generate(200, 32, seed: 4);
        Assert.Equal(new long[] { 200, 3, 32, 32 }, a.shape);
        Assert.True((a == b).all().ToBoolean());
        Assert.True((la == lb).all().ToBoolean());
        Assert.False((a == c).all().ToBoolean());
        var counts = torch.bincount(la, minlength: 10).data<long>().ToArray();
        Assert.All(counts, n => Assert.Equal(20, n));
    }

    [Fact]
    public void Augmented_batches_crop_and_flip_exactly_and_replay_from_the_seed()
    {
        using var scope = NewDisposeScope();
        // Images whose pixel value encodes its column, so that crops and flips are visible in the numbers.
        var cols = torch.arange(8, dtype: ScalarType.Byte).view(1, 1, 1, 8).expand(4, 3, 8, 8).contiguous() + 10;
        var labels = torch.arange(4, dtype: ScalarType.Int64);
        var data = new TensorClassificationBatches(cols, labels, ["a", "b", "c", "d"], 4, train: true, seed: 1, [0f, 0f, 0f], [1f / 255, 1f / 255, 1f / 255], padding: 2);
        var first = data.Epoch(0).Single();
        var again = data.Epoch(0).Single();
        Assert.True((first.Images == again.Images).all().ToBoolean());
        var img = first.Images;
        for (int i = 0; i < 4; i++)
        {
            var row = img[i, 0, 4].data<float>().ToArray().Select(v => (float)Math.Round(v)).ToArray(); // a middle row: every value is a column (10..17) or padding (0)
            var nonzero = row.Where(v => v != 0).ToArray();
            Assert.True(nonzero.Length >= 6);
            var diffs = nonzero.Zip(nonzero.Skip(1), (p, q) => q - p).Distinct().ToArray();
            Assert.Single(diffs); // consecutive columns, increasing (not flipped) or decreasing (flipped)
            Assert.True(Math.Abs(diffs[0]) == 1);
        }
        var eval = new TensorClassificationBatches(cols, labels, ["a", "b", "c", "d"], 3, train: false, seed: 1, [0f, 0f, 0f], [1f / 255, 1f / 255, 1f / 255]);
        var batches = eval.Epoch(0).ToList();
        Assert.Equal([3, 1], batches.Select(x => x.Count));
        Assert.Equal(10f, batches[0].Images[0, 0, 0, 0].ToSingle(), 3);
    }

    [Fact]
    public void Learner_state_keeps_torchvision_names_under_its_model_prefix()
    {
        var classes = Enumerable.Range(0, 10).Select(i => $"c{i}").ToList();
        using var model = ClassificationModel.Create("resnet32", LocalMethod.ManPlusPlus, 4, "uniform", classes, [3, 32, 32], 0);
        var keys = model.Learner.state_dict().Keys.ToHashSet();
        Assert.Contains("model.conv1.weight", keys);
        Assert.Contains("model.layer1.0.conv1.weight", keys);
        Assert.Contains("model.fc.bias", keys);
        Assert.Contains("aux.0.s", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("modelconv", StringComparison.Ordinal));
    }

    [Fact]
    public void Recomputing_splits_recompute_only_the_blocks_that_need_it()
    {
        using var scope = NewDisposeScope();
        using var r101 = Man.Vision.Backbones.ResNets.ResNetFactory.Create("resnet101", 1000);
        // The plans measured by `bench memory` (README): kept graphs 0-1 | 2-4 | 5-15 | 16-33; with recomputation the
        // bound falls and only the first two blocks recompute (layer3.0-3.9 keeps its graph within the 10 % slack; with
        // 2 % the third block recomputes as well and block 0 cuts its EMA branch: 0.475× e2e's peak but 1.41× its step).
        var (kept, none, _) = ClassificationModel.PlanBlocks(r101, LocalMethod.ManPlusPlus, 4, "balanced", [3, 224, 224], recompute: false);
        Assert.Equal([0, 2, 5, 16], kept.Starts);
        Assert.Empty(none);
        var (plan, recomputed, cuts) = ClassificationModel.PlanBlocks(r101, LocalMethod.ManPlusPlus, 4, "balanced", [3, 224, 224], recompute: true);
        // No auxiliary pass of ResNet-101 needs the EMA branch cut out at this slack. CIFAR ResNet-32's first block does (two
        // copies of a unit at full resolution beside a block of three units).
        Assert.Empty(cuts);
        using var r32 = Man.Vision.Backbones.ResNets.ResNetFactory.Create("resnet32", 10);
        var (plan32, recomputed32, cuts32) = ClassificationModel.PlanBlocks(r32, LocalMethod.ManPlusPlus, 4, "balanced", [3, 32, 32], recompute: true);
        Assert.Equal("0-2 (r) | 3-5 (r) | 6-7 | 8-15", plan32.ToString(recomputed32.Contains));
        Assert.Equal([0], cuts32);
        var tight = ClassificationModel.PlanBlocks(r101, LocalMethod.ManPlusPlus, 4, "balanced", [3, 224, 224], recompute: true, recomputeSlack: 0.02);
        Assert.Equal("0-2 (r) | 3-6 (r) | 7-18 (r) | 19-33", tight.Plan.ToString(tight.Recomputed.Contains));
        Assert.Equal([0], tight.MomentumCuts);
        Assert.Equal([0, 3, 8, 18], plan.Starts);
        Assert.Equal([0, 1], recomputed);
        Assert.Equal("0-2 (r) | 3-7 (r) | 8-17 | 18-33", plan.ToString(recomputed.Contains));
        // Explicit splits recompute every early block; e2e has none.
        Assert.Equal([0, 1, 2], ClassificationModel.PlanBlocks(r101, LocalMethod.ManPlusPlus, 4, "0,2,5,16", [3, 224, 224], recompute: true).Recomputed);
        Assert.Empty(ClassificationModel.PlanBlocks(r101, LocalMethod.E2E, 1, "balanced", [3, 224, 224], recompute: true).Recomputed);
    }

    [Fact]
    public void Unknown_arch_method_and_too_large_K_are_clear_errors()
    {
        var classes = Enumerable.Range(0, 10).Select(i => $"c{i}").ToList();
        Assert.Contains("resnet32", Assert.Throws<ArgumentException>(() =>
            ClassificationModel.Create("resnet33", LocalMethod.ManPlusPlus, 4, "uniform", classes, [3, 32, 32], 0)).Message);
        Assert.Contains("manpp", Assert.Throws<ArgumentException>(() => LocalMethods.Parse("man+++")).Message);
        Assert.Contains("larger than the number of units of this network (16)", Assert.Throws<ArgumentException>(() =>
            ClassificationModel.Create("resnet32", LocalMethod.ManPlusPlus, 17, "uniform", classes, [3, 32, 32], 0)).Message);
        Assert.Contains("--k 1", Assert.Throws<ArgumentException>(() => new ClassificationTrainOptions { Method = LocalMethod.E2E, K = 4 }.Validate()).Message);
    }

    [Fact]
    public void Gradient_clipping_is_reported_per_block_each_epoch_and_a_bound_no_step_reaches_changes_nothing()
    {
        using var scope = NewDisposeScope();
        var (train, test) = ClassificationData.Open("synth", 64, seed: 0, trainSize: 256, workers: 1, testSize: 256);
        var options = new ClassificationTrainOptions { Arch = "resnet32", Method = LocalMethod.ManPlusPlus, K = 4, Epochs = 1, LearningRate = 0.05, MaxBatchesPerEpoch = 2 };
        var free = new ClassificationRunner().Train(options, train, test, Path.Combine(dir, "free"), resume: false, CPU).Single();
        var loose = new ClassificationRunner().Train(options with { ClipGradNorm = 1e9 }, train, test, Path.Combine(dir, "loose"), resume: false, CPU).Single();
        var tight = new ClassificationRunner().Train(options with { ClipGradNorm = 1e-3 }, train, test, Path.Combine(dir, "tight"), resume: false, CPU).Single();

        Assert.Null(free.GradNormMedianPerBlock);
        Assert.Null(free.ClippedStepsPerBlock);
        // A bound above every norm: the run is the unclipped one to the bit, no step counts as clipped, each block has a norm.
        Assert.Equal(free.TrainLossPerBlock, loose.TrainLossPerBlock);
        Assert.Equal(free.TestAccuracy, loose.TestAccuracy);
        Assert.Equal([0, 0, 0, 0], loose.ClippedStepsPerBlock!);
        Assert.All(loose.GradNormMedianPerBlock!, n => Assert.True(n > 1e-3 && double.IsFinite(n), $"norm {n}"));
        // A bound below every norm clips all four blocks at both steps, and the second step then starts elsewhere.
        Assert.Equal([2, 2, 2, 2], tight.ClippedStepsPerBlock!);
        Assert.Equal(loose.GradNormMedianPerBlock!.Length, tight.GradNormMedianPerBlock!.Length);
        Assert.NotEqual(free.TrainLossPerBlock, tight.TrainLossPerBlock);

        var doc = Newtonsoft.Json.Linq.JObject.Parse(File.ReadAllText(Path.Combine(dir, "tight", ClassificationRunner.MetricsFile)));
        Assert.Equal(1e-3, doc.Value<double>("clip_grad_norm"));
        Assert.Equal([2, 2, 2, 2], doc["epochs"]![0]!["ClippedStepsPerBlock"]!.Values<int>());
        Assert.Equal(tight.GradNormMedianPerBlock, doc["epochs"]![0]!["GradNormMedianPerBlock"]!.Values<double>());
    }

    [Fact]
    public void Checkpoint_reloads_to_the_same_predictions_and_resume_continues_the_run()
    {
        using var scope = NewDisposeScope();
        var (train, test) = ClassificationData.Open("synth", 64, seed: 0, trainSize: 256, workers: 1);
        var options = new ClassificationTrainOptions { Arch = "resnet32", Method = LocalMethod.ManPlusPlus, K = 4, Epochs = 2, LearningRate = 0.05, MaxBatchesPerEpoch = 2 };
        string run = Path.Combine(dir, "run");
        // Interrupt the run after its first epoch (cancelled as the first batch of epoch 2 starts).
        using var cts = new CancellationTokenSource();
        var stopAfterFirstEpoch = new Progress(p => { if (p.Epoch == 0 && p.Batch == p.Batches) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            new ClassificationRunner().Train(options, train, test, run, resume: false, CPU, stopAfterFirstEpoch, cts.Token));
        Assert.True(File.Exists(Path.Combine(run, ClassificationRunner.LastCheckpoint)));
        var h2 = new ClassificationRunner().Train(options, train, test, run, resume: true, CPU);
        Assert.Equal([0, 1], h2.Select(h => h.Epoch));

        // The uninterrupted two-epoch run gives the same second epoch.
        string full = Path.Combine(dir, "full");
        var h3 = new ClassificationRunner().Train(options, train, test, full, resume: false, CPU);
        Assert.Equal(h3[1].TrainLossPerBlock, h2[1].TrainLossPerBlock);
        Assert.Equal(h3[1].TestAccuracy, h2[1].TestAccuracy);
        Assert.Equal(h3[1].TrainAccuracy, h2[1].TrainAccuracy);

        using var model = ClassificationModel.Load(Path.Combine(run, ClassificationRunner.LastCheckpoint));
        long regions = Man.Runtime.CollectorPause.RegionsStarted;
        var result = ClassificationRunner.Evaluate(model, test!, CPU);
        Assert.Equal(h2[1].TestAccuracy!.Value, result.Accuracy, 6);
        // Each test batch ran in its own no-GC region (TorchSharp's temporary scalars stay alive while the loader works).
        if (Man.Runtime.CollectorPause.Enabled) Assert.Equal(regions + test!.BatchesPerEpoch, Man.Runtime.CollectorPause.RegionsStarted);
    }

    [Fact]
    public void Pretrained_from_our_checkpoint_loads_by_name_and_frozen_units_stay_fixed()
    {
        using var scope = NewDisposeScope();
        var (train, test) = ClassificationData.Open("synth", 64, seed: 0, trainSize: 128, workers: 1, testSize: 64);
        var first = new ClassificationTrainOptions { Arch = "resnet32", Method = LocalMethod.E2E, K = 1, Epochs = 1, LearningRate = 0.05, MaxBatchesPerEpoch = 2 };
        string source = Path.Combine(dir, "source");
        new ClassificationRunner().Train(first, train, test, source, resume: false, CPU);
        string ckpt = Path.Combine(source, ClassificationRunner.LastCheckpoint);
        var saved = Man.Local.Training.CheckpointFile.ReadTensors(ckpt);

        var notes = new List<string>();
        var second = first with { Method = LocalMethod.ManPlusPlus, K = 4, Pretrained = ckpt, FreezeAt = 2 };
        new ClassificationRunner { Log = notes.Add }.Train(second, train, test, Path.Combine(dir, "fine"), resume: false, CPU);
        Assert.Contains(notes, n => n.Contains("frozen units: stem, layer1.0"));
        var tuned = Man.Local.Training.CheckpointFile.ReadTensors(Path.Combine(dir, "fine", ClassificationRunner.LastCheckpoint));
        // Frozen: the stem and layer1 keep the source weights exactly; trained: layer3 moved away from them.
        Assert.Equal(0.0, (tuned["model.conv1.weight"] - saved["model.conv1.weight"]).abs().max().ToDouble());
        Assert.Equal(0.0, (tuned["model.layer1.4.conv2.weight"] - saved["model.layer1.4.conv2.weight"]).abs().max().ToDouble());
        Assert.True((tuned["model.layer3.0.conv1.weight"] - saved["model.layer3.0.conv1.weight"]).abs().max().ToDouble() > 0);
        // The frozen units form no block of their own.
        using var model = ClassificationModel.Load(Path.Combine(dir, "fine", ClassificationRunner.LastCheckpoint));
        Assert.True(model.Learner.Plan.Start(1) > 6, model.Learner.Plan.ToString());
    }

    [SharedDataFact]
    public void Short_cifar10_run_is_far_above_chance()
    {
        using var scope = NewDisposeScope();
        string archive = SharedData.Path("cifar10-jpeg.tar.gz");
        // 4,000 training and 1,000 test images, evenly spaced over the class-sorted archive (every class present).
        var (train, test) = ClassificationData.Open("cifar10:" + archive, 64, seed: 0, trainSize: 4000, workers: 2, testSize: 1000);
        var options = new ClassificationTrainOptions { Arch = "resnet32", Method = LocalMethod.ManPlusPlus, K = 4, Epochs = 3, LearningRate = 0.1, WarmupEpochs = 0.3 };
        var history = new ClassificationRunner().Train(options, train, test, Path.Combine(dir, "cifar"), resume: false, CPU);
        // Chance is 10 %; three short epochs reach well above it.
        Assert.True(history[^1].TestAccuracy > 25, $"accuracy {history[^1].TestAccuracy} %");
        Assert.True(history[^1].TrainAccuracy > 25, $"training accuracy {history[^1].TrainAccuracy} %");
    }

    [Fact]
    public void Lb_and_ema_copies_start_fresh_or_from_the_unit_they_copy()
    {
        using var scope = NewDisposeScope();
        string[] classes = ["a", "b", "c"];
        foreach (bool fromUnit in new[] { false, true })
        {
            using var model = ClassificationModel.Create("resnet32", LocalMethod.ManPlusPlus, 8, "uniform", classes, [3, 32, 32], seed: 0,
                initializeCopiesFromUnit: fromUnit);
            var unit = model.Learner.Units[model.Learner.Plan.Start(1)].named_parameters().ToDictionary(p => p.name, p => p.parameter);
            var copies = model.Learner.Auxiliaries[0].named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, weight) in unit)
                foreach (string copy in new[] { "lb", "ema" })
                {
                    double diff = (copies[$"{copy}.{name}"] - weight).abs().max().ToDouble();
                    if (fromUnit) Assert.Equal(0.0, diff);
                    else if (name.EndsWith("conv1.weight")) Assert.True(diff > 1e-3, $"{copy}.{name} equals the unit's weight");
                }
        }
        Assert.Contains("has none", Assert.Throws<ArgumentException>(() =>
            new ClassificationTrainOptions { Method = LocalMethod.Greedy, K = 4, InitializeCopiesFromUnit = true }.Validate()).Message);
    }

    [Fact]
    public void Main_head_counts_the_top1_hits_of_the_training_batches()
    {
        using var scope = NewDisposeScope();
        var head = new Man.Vision.Classification.Heads.ClassifierMainHead(nn.Identity());
        var logits = tensor(new float[] { 2, 1, 0, 0, 3, 1, 1, 0, 0.5f, 0, 0, 1 }).reshape(4, 3);
        head.Losses(new Dictionary<int, Tensor>(), logits, tensor(new long[] { 0, 1, 2, 2 })); // the third row misses
        head.Losses(new Dictionary<int, Tensor>(), logits[..2], tensor(new long[] { 1, 1 }));   // the first row misses
        Assert.Equal(4, head.TrainCorrect);
        Assert.Equal(6, head.TrainSeen);
        Assert.Equal(400.0 / 6, head.TrainAccuracy, 12);
        head.ResetTrainAccuracy();
        Assert.True(double.IsNaN(head.TrainAccuracy));
    }

    private sealed class Progress(Action<TrainProgress> action) : IProgress<TrainProgress>
    {
        public void Report(TrainProgress value) => action(value);
    }
}
