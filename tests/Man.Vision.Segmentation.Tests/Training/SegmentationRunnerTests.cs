using Man.Local;
using Man.Local.Training;
using Man.Vision.Backbones.ResNets;
using Man.Vision.Segmentation.Models;
using Man.Vision.Segmentation.Training;
using Newtonsoft.Json.Linq;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Tests.Training;

/// <summary>
/// The training runner end to end on tiny synthetic data (64 px images, ResNet-18, 2 batches of 4 per epoch): metrics.json
/// and checkpoints, exact resumption, evaluation from the checkpoint, NaN handling, split plans and data specifications.
/// </summary>
public sealed class SegmentationRunnerTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "man-seg-runner-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    private SegmentationDataSource Synth() => SegmentationDataSource.Open("synth:n=24,size=64,seed=3", cacheRoot: Path.Combine(dir, "cache"));

    private static SegmentationTrainOptions Tiny(LocalMethod method = LocalMethod.ManPlusPlus, int k = 4) => new()
    {
        Arch = "resnet18", Head = SegmentationHeadKind.DeepLabV3, AuxLoss = true, Method = method, K = k, Split = "stages",
        Epochs = 2, BatchSize = 4, CropSize = 64, MaxBatchesPerEpoch = 2, LearningRate = 0.01, Workers = 1, EvalBatchSize = 2,
    };

    [Fact]
    public void Run_writes_metrics_and_checkpoints_resumes_exactly_and_its_checkpoint_reproduces_the_final_mIoU()
    {
        var data = Synth();
        var options = Tiny();
        string run = Path.Combine(dir, "run");
        // Interrupt the run after its first epoch (cancelled at the last batch of epoch 1; epoch 2 does not start).
        using var cts = new CancellationTokenSource();
        var stopAfterFirstEpoch = new Progress(p => { if (p.Epoch == 0 && p.Batch == p.Batches) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => new SegmentationRunner().Train(options, data, run, resume: false, CPU, stopAfterFirstEpoch, cts.Token));
        Assert.True(File.Exists(Path.Combine(run, SegmentationRunner.LastCheckpoint)));
        var first = JObject.Parse(File.ReadAllText(Path.Combine(run, SegmentationRunner.MetricsFile)));
        Assert.Single(first["epochs"]!);

        var resumed = new SegmentationRunner().Train(options, data, run, resume: true, CPU);
        Assert.Equal([0, 1], resumed.Select(h => h.Epoch));

        // The uninterrupted two-epoch run gives the same losses and mIoU in both epochs.
        string full = Path.Combine(dir, "full");
        var straight = new SegmentationRunner().Train(options, data, full, resume: false, CPU);
        for (int e = 0; e < 2; e++)
        {
            Assert.Equal(straight[e].TrainLossPerBlock, resumed[e].TrainLossPerBlock);
            Assert.Equal(straight[e].TrainLosses, resumed[e].TrainLosses);
            Assert.Equal(straight[e].MIoU, resumed[e].MIoU);
        }
        Assert.Equal(4, resumed[1].TrainLossPerBlock.Length);
        Assert.Equal(["aux", "out"], resumed[1].TrainLosses.Keys.Order());
        Assert.All(resumed[1].TrainLossPerBlock, l => Assert.True(l > 0 && double.IsFinite(l)));

        // metrics.json: the run's description and, per epoch, losses per block, mIoU/aAcc/mAcc, per-class IoU, memory, time.
        var doc = JObject.Parse(File.ReadAllText(Path.Combine(run, SegmentationRunner.MetricsFile)));
        Assert.Equal("segment", doc.Value<string>("task"));
        Assert.Equal(4, doc.Value<int>("k"));
        Assert.Equal("0-2 | 3-4 | 5-6 | 7-8", doc.Value<string>("plan"));
        Assert.Equal(["background", "circle", "square", "triangle", "star", "cross"], doc["classes"]!.Values<string>());
        var last = (JObject)doc["epochs"]!.Last!;
        Assert.Equal(resumed[1].MIoU!.Value, last.Value<double>("mIoU"), 12);
        Assert.Equal(data.Classes, ((JObject)last["IoU"]!).Properties().Select(p => p.Name));
        Assert.True(last.Value<double>("peak_rss_mib") > 100);
        Assert.True(last.Value<double>("step_time_ms_median") > 0);
        Assert.True(File.Exists(Path.Combine(run, SegmentationRunner.BestCheckpoint)));

        // The checkpoint's metadata rebuilds the model; evaluating it gives the runner's final mIoU exactly.
        var meta = LocalTrainer<Tensor>.ReadMeta(Path.Combine(run, SegmentationRunner.LastCheckpoint));
        Assert.Equal("segment", meta["task"]);
        Assert.Equal("deeplabv3", meta["head"]);
        Assert.Equal("32", meta["output_stride"]);
        Assert.Equal("64", meta["crop"]);
        Assert.Equal("255", meta["ignore_index"]);
        using var segmenter = Segmenter.Load(Path.Combine(run, SegmentationRunner.LastCheckpoint));
        long regions = Man.Runtime.CollectorPause.RegionsStarted;
        var metrics = SegmentationRunner.Evaluate(segmenter, data.Val, CPU, batchSize: 3, workers: 1);
        Assert.Equal(resumed[1].MIoU!.Value, metrics.MIoU, 9);
        Assert.Equal(resumed[1].AAcc!.Value, metrics.AAcc, 9);
        // Each batch's forward pass ran in a no-GC region (TorchSharp's temporary scalars stay alive while the loader works).
        if (Man.Runtime.CollectorPause.Enabled)
            Assert.Equal(regions + (data.Val.Samples.Count + 2) / 3, Man.Runtime.CollectorPause.RegionsStarted);
    }

    [Fact]
    public void Precise_batch_norm_changes_only_the_statistics_of_the_backbone_and_main_head_and_the_checkpoint_repeats_its_mIoU()
    {
        var data = Synth();
        var options = Tiny();
        var plain = new SegmentationRunner().Train(options, data, Path.Combine(dir, "plain"), resume: false, CPU);
        var precise = new SegmentationRunner().Train(options with { PreciseBnBatches = 3 }, data, Path.Combine(dir, "precise"), resume: false, CPU);
        // Training-mode batch norm normalises with batch statistics: the second epoch, after a precise pass, is the same.
        for (int e = 0; e < 2; e++) Assert.Equal(plain[e].TrainLossPerBlock, precise[e].TrainLossPerBlock);
        Assert.All(plain, m => Assert.Equal(0, m.PreciseBnBatches));
        Assert.All(precise, m => Assert.Equal(3, m.PreciseBnBatches));
        Assert.Equal(JTokenType.Null, JObject.Parse(File.ReadAllText(Path.Combine(dir, "plain", SegmentationRunner.MetricsFile)))["precise_bn"]!.Type);
        Assert.Equal(3, JObject.Parse(File.ReadAllText(Path.Combine(dir, "precise", SegmentationRunner.MetricsFile))).Value<int>("precise_bn"));

        using var a = Segmenter.Load(Path.Combine(dir, "plain", SegmentationRunner.LastCheckpoint));
        using var b = Segmenter.Load(Path.Combine(dir, "precise", SegmentationRunner.LastCheckpoint));
        var bParams = b.Learner.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in a.Learner.named_parameters()) Assert.True(p.allclose(bParams[name], rtol: 0, atol: 1e-6), $"parameter {name}");
        // The backbone's and the DeepLabV3 head's running variances moved; the FCN auxiliary head (training only) kept its own.
        static Dictionary<string, Tensor> Vars(nn.Module m) => m.named_buffers().Where(x => x.name.EndsWith("running_var", StringComparison.Ordinal)).ToDictionary(x => x.name, x => x.buffer);
        foreach (var (module, moved) in new[] { (a.Network, b.Network), (a.Head.Classifier, b.Head.Classifier) }.Select(p => (p.Item1, Vars(p.Item2))))
        {
            var before = Vars(module);
            Assert.NotEmpty(before);
            double largest = before.Max(kv => ((moved[kv.Key] - kv.Value).abs().max() / kv.Value.abs().max()).item<float>());
            Assert.True(largest > 1e-2, $"running variances moved by at most {largest}");
        }
        var metrics = SegmentationRunner.Evaluate(b, data.Val, CPU, batchSize: 2, workers: 1);
        Assert.Equal(precise[1].MIoU!.Value, metrics.MIoU, 9);
        Assert.Throws<ArgumentException>(() => (options with { PreciseBnBatches = -1 }).Validate());

        // The same pass on the plain run's checkpoint, with the loader settings the checkpoint stores, gives the precise
        // run's statistics and its mIoU (what eval segment --precise-bn does).
        string plainCkpt = Path.Combine(dir, "plain", SegmentationRunner.LastCheckpoint);
        var of = SegmentationRunner.TrainingLoaderOf(plainCkpt);
        Assert.Equal((options.BatchSize, options.Seed, options.CropSize, options.MinScale, options.MaxScale, options.Jitter, 1),
            (of.BatchSize!.Value, of.Seed!.Value, of.CropSize, of.MinScale!.Value, of.MaxScale!.Value, of.Jitter!.Value, of.Epoch));
        var (layers, used) = SegmentationRunner.RecomputeBatchNorm(a, data, 3,
            new SegmentationRunner.TrainingLoader(of.BatchSize.Value, of.Seed.Value, of.CropSize, of.MinScale.Value, of.MaxScale.Value, of.Jitter.Value, of.Epoch), CPU, workers: 1);
        Assert.Equal(3, used);
        Assert.Equal(Vars(a.Network).Count + Vars(a.Head.Classifier).Count, layers); // every batch-norm layer of both
        var bBuffers = b.Network.named_buffers().Concat(b.Head.Classifier.named_buffers()).ToDictionary(x => x.name, x => x.buffer);
        foreach (var (name, buffer) in a.Network.named_buffers().Concat(a.Head.Classifier.named_buffers()).Where(x => !x.name.EndsWith("num_batches_tracked", StringComparison.Ordinal)))
            Assert.True(buffer.allclose(bBuffers[name], rtol: 1e-5, atol: 1e-6), $"buffer {name}");
        Assert.Equal(precise[1].MIoU!.Value, SegmentationRunner.Evaluate(a, data.Val, CPU, batchSize: 2, workers: 1).MIoU, 9);
    }

    [Fact]
    public void Gradient_clipping_is_reported_per_block_each_epoch_and_a_bound_no_step_reaches_changes_nothing()
    {
        var data = Synth();
        var options = Tiny() with { Epochs = 1, EvalEvery = 0 };
        var free = new SegmentationRunner().Train(options, data, Path.Combine(dir, "free"), resume: false, CPU).Single();
        var loose = new SegmentationRunner().Train(options with { ClipGradNorm = 1e9 }, data, Path.Combine(dir, "loose"), resume: false, CPU).Single();
        var tight = new SegmentationRunner().Train(options with { ClipGradNorm = 1e-4 }, data, Path.Combine(dir, "tight"), resume: false, CPU).Single();

        Assert.Null(free.GradNormMedianPerBlock);
        Assert.Null(free.ClippedStepsPerBlock);
        // A bound above every norm: the unclipped run to the bit, no clipped step, a finite norm for each of the four blocks.
        Assert.Equal(free.TrainLossPerBlock, loose.TrainLossPerBlock);
        Assert.Equal([0, 0, 0, 0], loose.ClippedStepsPerBlock!);
        Assert.All(loose.GradNormMedianPerBlock!, n => Assert.True(n > 1e-4 && double.IsFinite(n), $"norm {n}"));
        // A bound below every norm clips every block at both steps and changes the second step.
        Assert.Equal([2, 2, 2, 2], tight.ClippedStepsPerBlock!);
        Assert.NotEqual(free.TrainLossPerBlock, tight.TrainLossPerBlock);

        var doc = JObject.Parse(File.ReadAllText(Path.Combine(dir, "tight", SegmentationRunner.MetricsFile)));
        Assert.Equal(1e-4, doc.Value<double>("clip_grad_norm"));
        var epoch = doc["epochs"]![0]!;
        Assert.Equal([2, 2, 2, 2], epoch["clipped_steps_per_block"]!.Values<int>());
        Assert.Equal(tight.GradNormMedianPerBlock, epoch["grad_norm_median_per_block"]!.Values<double>());
        Assert.Equal(JTokenType.Null, JObject.Parse(File.ReadAllText(Path.Combine(dir, "free", SegmentationRunner.MetricsFile)))["epochs"]![0]!["clipped_steps_per_block"]!.Type);
    }

    [Fact]
    public void A_non_finite_loss_stops_the_run_with_metrics_written_and_the_last_good_checkpoint_kept()
    {
        var data = Synth();
        string run = Path.Combine(dir, "nan");
        var options = Tiny(LocalMethod.E2E, 1) with { Epochs = 1, EvalEvery = 0 };
        new SegmentationRunner().Train(options, data, run, resume: false, CPU);
        string last = Path.Combine(run, SegmentationRunner.LastCheckpoint);
        byte[] good = File.ReadAllBytes(last);

        // Continue for a second epoch with an absurd learning rate: the weights overflow and a loss becomes NaN/∞.
        var exploding = options with { Epochs = 2, LearningRate = 1e30, MaxBatchesPerEpoch = 2 };
        var e = Assert.Throws<NonFiniteLossException>(() => new SegmentationRunner().Train(exploding, data, run, resume: true, CPU));
        Assert.Equal(0, e.Block);
        Assert.Equal(good, File.ReadAllBytes(last));
        var doc = JObject.Parse(File.ReadAllText(Path.Combine(run, SegmentationRunner.MetricsFile)));
        Assert.True(doc.Value<bool>("stopped_on_non_finite_loss"));
        Assert.Single(doc["epochs"]!);
    }

    [Fact]
    public void Split_plans_follow_the_stages_and_reject_what_does_not_fit()
    {
        using var r18 = new ResNet(ResNetFactory.Options("resnet18") with { NumClasses = 0 });
        Assert.Equal([0, 3, 5, 7], Segmenter.MakePlan(r18, LocalMethod.ManPlusPlus, 4, "stages", 256).Starts);
        using var r50 = new ResNet(ResNetFactory.Options("resnet50") with { NumClasses = 0, ReplaceStrideWithDilation = [false, true, true] });
        Assert.Equal([0, 4, 8, 14], Segmenter.MakePlan(r50, LocalMethod.ManPlusPlus, 4, "stages", 512).Starts);
        Assert.Equal([0], Segmenter.MakePlan(r50, LocalMethod.E2E, 1, "stages", 512).Starts);
        // Balanced by activation memory: its most expensive block costs less than the stage split's and no more than the
        // uniform split's (at output stride 8 the dilated layer3/layer4 units are the big ones); the plan measured best (README).
        var units = Segmenter.BalancedCosts(r50, 512);
        double MaxBlock(SplitPlan p) => Enumerable.Range(0, p.K).Max(b => units[p.Start(b)..p.End(b)].Sum());
        var balanced = Segmenter.MakePlan(r50, LocalMethod.ManPlusPlus, 4, "balanced", 512);
        var stages = Segmenter.MakePlan(r50, LocalMethod.ManPlusPlus, 4, "stages", 512);
        Assert.True(MaxBlock(balanced) < MaxBlock(stages), $"balanced {balanced}: {MaxBlock(balanced)} vs stages {MaxBlock(stages)}");
        Assert.True(MaxBlock(balanced) <= MaxBlock(SplitPlan.Uniform(4, r50.Count)));
        Assert.Equal([0, 6, 12, 15], balanced.Starts);
        // Frozen leading units (here the stem and layer1, units 0–3) all go into the first block.
        Man.Vision.Backbones.FineTuning.FineTuner.FreezeAt(r50, 2);
        var frozen = Segmenter.MakePlan(r50, LocalMethod.ManPlusPlus, 4, "uniform", 512);
        Assert.Equal([0, 8, 11, 14], frozen.Starts); // 13 trainable units as 4 + 3 + 3 + 3
        Assert.Equal([0, 2, 9, 12], Segmenter.MakePlan(r50, LocalMethod.ManPlusPlus, 4, "0,2,9,12", 512).Starts);
        Assert.Contains("--k is 3", Assert.Throws<ArgumentException>(() => Segmenter.MakePlan(r50, LocalMethod.ManPlusPlus, 3, "stages", 512)).Message);
        Assert.Contains("--k is 2", Assert.Throws<ArgumentException>(() => Segmenter.MakePlan(r50, LocalMethod.ManPlusPlus, 2, "0,2,9", 512)).Message);
    }

    [Fact]
    public void Copies_initialised_from_the_unit_start_as_that_units_weights()
    {
        // stages: stem+layer1 | layer2 | layer3 | layer4, so block b's LB and EMA copy layer(b+2).0.
        foreach (bool fromUnit in new[] { true, false })
        {
            using var segmenter = Segmenter.Create(Tiny() with { InitializeCopiesFromUnit = fromUnit }, ["a", "b"]);
            var model = segmenter.Learner.named_parameters().Where(p => !p.name.StartsWith("aux", StringComparison.Ordinal)).ToList();
            for (int b = 0; b < 3; b++)
            {
                var aux = segmenter.Learner.Auxiliaries[b];
                int count = 0, equal = 0;
                foreach (var copy in new[] { aux.Learnable!, aux.Momentum! })
                    foreach (var (name, p) in copy.named_parameters())
                    {
                        if (p.dim() < 2) continue; // batch norm's fresh 1s and 0s equal the unit's untrained ones anyway
                        var unit = Assert.Single(model, m => m.name.EndsWith($"layer{b + 2}.0.{name}", StringComparison.Ordinal));
                        count++;
                        if (p.equal(unit.parameter).all().item<bool>()) equal++;
                    }
                Assert.Equal(6, count); // conv1, conv2 and the downsample conv of a BasicBlock, in LB and EMA
                Assert.Equal(fromUnit ? count : 0, equal);
            }
            Assert.Equal(fromUnit ? "true" : "false", segmenter.Meta()["init_copies_from_unit"]);
        }
        Assert.Contains("--init-copies-from-unit", Assert.Throws<ArgumentException>(() =>
            (Tiny(LocalMethod.Greedy) with { InitializeCopiesFromUnit = true }).Validate()).Message);
    }

    [Fact]
    public void Options_and_data_specifications_are_validated_with_clear_messages()
    {
        var dilatedBasic = Assert.Throws<ArgumentException>(() => Segmenter.Create(Tiny() with { OutputStride = 8 }, ["a", "b"]));
        Assert.Contains("--output-stride 32", dilatedBasic.Message);
        Assert.Equal(32, Tiny().EffectiveOutputStride);
        Assert.Equal(8, (Tiny() with { Arch = "resnet50" }).EffectiveOutputStride);
        Assert.Contains("--k 1", Assert.Throws<ArgumentException>(() => (Tiny() with { Method = LocalMethod.E2E }).Validate()).Message);
        Assert.Contains("Valid", Assert.Throws<ArgumentException>(() => (Tiny() with { Arch = "vgg16" }).Validate()).Message);

        var unknown = Assert.Throws<ArgumentException>(() => SegmentationDataSource.Open("ade20k:/data"));
        Assert.Contains("camvid:DIR", unknown.Message);
        Assert.Contains("synth", unknown.Message);
        Assert.Contains("n, size, seed", Assert.Throws<ArgumentException>(() => SegmentationDataSource.Open("synth:images=3", cacheRoot: dir)).Message);
        Assert.Throws<DirectoryNotFoundException>(() => SegmentationDataSource.Open("camvid:" + Path.Combine(dir, "nowhere")));

        // The synthetic set is rendered once and reused; Limit keeps the first images.
        var a = Synth();
        var stamp = Directory.GetLastWriteTimeUtc(Path.GetDirectoryName(a.Train.Samples[0].ImagePath)!);
        var b = Synth().Limit(5, 2);
        Assert.Equal(stamp, Directory.GetLastWriteTimeUtc(Path.GetDirectoryName(b.Train.Samples[0].ImagePath)!));
        Assert.Equal(24, a.Train.Samples.Count + a.Val.Samples.Count);
        Assert.Equal(a.Train.Samples.Take(5), b.Train.Samples);
        Assert.Equal(2, b.Val.Samples.Count);
        Assert.Single(Directory.GetDirectories(Path.Combine(dir, "cache")));
    }

    private sealed class Progress(Action<SegmentationTrainProgress> action) : IProgress<SegmentationTrainProgress>
    {
        public void Report(SegmentationTrainProgress value) => action(value);
    }
}
