using Man.Testing;
using Man.Local;
using Man.Local.Training;
using Man.Vision.Backbones.Norm;
using Man.Vision.Backbones.ResNets;
using Man.Vision.Backbones.Weights;
using Man.Vision.Detection.Training;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Training;

public sealed class DetectionModelTests
{
    private static DetectionModelConfig Config(int trainable, bool frozen) =>
        new("resnet18", LocalMethod.ManPlusPlus, 4, "stages", ["a", "b"], [3, 7], 64, 96, trainable, frozen);

    /// <summary>A randomly initialised resnet18 saved as DIR/resnet18.safetensors, and a model holding what the file holds.</summary>
    private static (string Weights, ResNet Reference) RandomResNet18Weights(string dir, long seed)
    {
        string weights = Path.Combine(dir, "resnet18.safetensors");
        TorchSharp.torch.manual_seed(seed);
        using (var source = ResNetFactory.Create("resnet18"))
            WeightsWriter.Save(source, weights);
        var reference = ResNetFactory.Create("resnet18");
        WeightLoader.Load(reference, weights);
        return (weights, reference);
    }

    [Fact]
    public void PretrainedWeightsAreLoadedAndTheEarlyStagesFrozen()
    {
        using var dir = new TempDir("man-det-pretrained");
        var (weights, reference) = RandomResNet18Weights(dir, seed: 123);
        using var _ = reference;

        using var model = DetectionModel.Create(Config(trainable: 3, frozen: true), seed: 0, pretrained: weights);
        Assert.NotNull(model.PretrainedReport);
        Assert.Contains("fc.weight", model.PretrainedReport!.Skipped.Concat(model.PretrainedReport.Unexpected));
        var state = model.Network.state_dict();
        foreach (var (name, t) in reference.state_dict().Where(kv => !kv.Key.StartsWith("fc.", StringComparison.Ordinal) && !kv.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)))
            Assert.True(state[name].equal(t).all().item<bool>(), name);
        var loaded = model.Network.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        // torchvision with weights: frozen batch norm everywhere, stem and layer1 without gradients, layer2..4 trainable.
        Assert.IsType<FrozenBatchNorm2d>(model.Network.Stem.Bn1);
        Assert.All(loaded.Where(kv => kv.Key.StartsWith("conv1.", StringComparison.Ordinal) || kv.Key.StartsWith("layer1.", StringComparison.Ordinal)),
            kv => Assert.False(kv.Value.requires_grad, kv.Key));
        Assert.All(loaded.Where(kv => kv.Key.StartsWith("layer2.", StringComparison.Ordinal) || kv.Key.StartsWith("layer4.", StringComparison.Ordinal)),
            kv => Assert.True(kv.Value.requires_grad, kv.Key));
    }

    [Fact]
    public void PretrainedWeightsIntoABodyEndingAtLayer3SkipLayer4AsTorchvisionDrops()
    {
        using var dir = new TempDir("man-det-pretrained-c234");
        var (weights, reference) = RandomResNet18Weights(dir, seed: 5);
        using var _ = reference;

        using var model = DetectionModel.Create(Config(trainable: 5, frozen: false) with { K = 3, ReturnedLayers = [1, 2, 3] }, seed: 0, pretrained: weights);
        var report = model.PretrainedReport!;
        Assert.False(report.HasProblems, report.ToText());
        Assert.Empty(report.Unexpected);
        var expectedState = reference.state_dict();
        string[] layer4 = [.. expectedState.Keys.Where(k => k.StartsWith("layer4.", StringComparison.Ordinal) && !k.EndsWith("num_batches_tracked", StringComparison.Ordinal))];
        Assert.Equal(25, layer4.Length); // 2 blocks × (2 convs + 2 bns × 4 tensors) + the downsample's conv and bn (5)
        Assert.Subset(report.Skipped.ToHashSet(), layer4.ToHashSet());
        var state = model.Network.state_dict();
        Assert.Equal(report.ModelTensors, report.Loaded.Count);
        foreach (var (name, t) in state.Where(kv => !kv.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)))
            Assert.True(t.equal(expectedState[name]).all().item<bool>(), name);
    }

    [Fact]
    public void FromScratchEveryStageTrainsWithBatchNorm()
    {
        using var model = DetectionModel.Create(Config(trainable: 5, frozen: false), seed: 0);
        Assert.IsNotType<FrozenBatchNorm2d>(model.Network.Stem.Bn1);
        Assert.All(model.Network.named_parameters(), p => Assert.True(p.parameter.requires_grad, p.name));
        Assert.Null(model.PretrainedReport);
    }

    [Fact]
    public void TheCheckpointMetadataRebuildsTheModel()
    {
        var config = Config(trainable: 5, frozen: false) with { RoiSamplesPerImage = 64, RpnPostNmsTest = 77, AuxHead = "rcnn", AuxMinStride = 8 };
        using var model = DetectionModel.Create(config, seed: 0);
        string path = Path.Combine(Path.GetTempPath(), $"man-det-meta-{Environment.ProcessId}-{Guid.NewGuid():N}.ckpt");
        using (var trainer = new LocalTrainer<Man.Vision.Detection.LocalLearning.DetectionTargets>(model.Learner, new TrainerOptions()))
            trainer.Save(path, config.ToMeta());
        var read = DetectionModelConfig.FromCheckpoint(path);
        Assert.Equal(config with { Split = "0,3,5,7" }, read with { Classes = config.Classes, CategoryIds = config.CategoryIds });
        Assert.Equal(config.Classes, read.Classes);
        Assert.Equal(config.CategoryIds, read.CategoryIds);
        using var loaded = DetectionModel.Load(path);
        Assert.Equal(77, loaded.Detector.Rpn.Options.PostNmsTopNTest);
        Assert.IsType<Man.Vision.Detection.LocalLearning.RcnnHeadOptions>(loaded.Task.AuxOptions);
        var a = model.Learner.state_dict();
        foreach (var (name, t) in loaded.Learner.state_dict()) Assert.True(t.equal(a[name]).all().item<bool>(), name);
        File.Delete(path);
    }

    [Fact]
    public void CheckpointsWithoutAuxiliaryHeadMetadataUseTheDenseHeadAtStride16()
    {
        var config = Config(trainable: 5, frozen: false);
        using var model = DetectionModel.Create(config, seed: 0);
        string path = Path.Combine(Path.GetTempPath(), $"man-det-meta-old-{Environment.ProcessId}-{Guid.NewGuid():N}.ckpt");
        var meta = config.ToMeta();
        meta.Remove("aux_head");
        meta.Remove("aux_min_stride");
        using (var trainer = new LocalTrainer<Man.Vision.Detection.LocalLearning.DetectionTargets>(model.Learner, new TrainerOptions()))
            trainer.Save(path, meta);
        var read = DetectionModelConfig.FromCheckpoint(path);
        Assert.Equal(("dense", 16), (read.AuxHead, read.AuxMinStride));
        var dense = Assert.IsType<Man.Vision.Detection.LocalLearning.DenseHeadOptions>(read.AuxHeadOptions());
        Assert.Equal(16, dense.MinStride);
        File.Delete(path);
    }

    [Fact]
    public void AnUnknownAuxiliaryHeadIsRejectedWithTheChoices()
    {
        var e = Assert.Throws<ArgumentException>(() => (Config(trainable: 5, frozen: false) with { AuxHead = "fcos" }).Validate());
        Assert.Contains("'fcos'", e.Message);
        Assert.Contains("rcnn", e.Message);
        Assert.Throws<ArgumentException>(() => (Config(trainable: 5, frozen: false) with { AuxMinStride = 0 }).Validate());
    }

    [Fact]
    public void AnFpnOverC3ToC5TapsLayer2To4WithAnchorsFrom32Px()
    {
        var config = Config(trainable: 5, frozen: false) with { Split = "balanced", ReturnedLayers = [2, 3, 4] };
        using var model = DetectionModel.Create(config, seed: 0);
        // resnet18 units: stem, layer1 (1-2), layer2 (3-4), layer3 (5-6), layer4 (7-8): c3, c4, c5 end at units 4, 6, 8.
        Assert.Equal([4, 6, 8], model.Task.Head.Taps.Select(t => t.UnitIndex));
        Assert.Equal([8L, 16, 32], model.Task.Head.Taps.Select(t => t.Stride));
        Assert.Equal([128L, 256, 512], model.Task.Head.Fpn.InChannels);
        Assert.Equal([[32.0], [64.0], [128.0], [256.0]], model.Detector.Rpn.Options.AnchorSizes.Select(l => l.ToArray()));
        Assert.Equal(["0", "1", "2"], model.Detector.RoiHeads.BoxRoiPool.FeatureNames);
        // The balanced split of a 64×96 probe is 0 | 1 | 2 | 3-8: every FPN input comes from the last block, none is detached.
        Assert.Equal([0, 1, 2, 3], model.Learner.Plan.Starts);
        Assert.All(model.Task.Head.Taps, t => Assert.True(t.UnitIndex >= model.Learner.Plan.Starts[^1]));

        model.Detector.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var maps = model.Detector.Backbone.forward(zeros(1, 3, 64, 96));
        Assert.Equal(["0", "1", "2", "pool"], maps.Keys);
        Assert.Equal([[1L, 256, 8, 12], [1, 256, 4, 6], [1, 256, 2, 3], [1, 256, 1, 2]], maps.Values.Select(m => m.shape));

        // The default stays torchvision's c2..c5 with anchors 32..512.
        using var full = DetectionModel.Create(Config(trainable: 5, frozen: false), seed: 0);
        Assert.Equal([2, 4, 6, 8], full.Task.Head.Taps.Select(t => t.UnitIndex));
        Assert.Equal([[32.0], [64.0], [128.0], [256.0], [512.0]], full.Detector.Rpn.Options.AnchorSizes.Select(l => l.ToArray()));
        Assert.Equal(["0", "1", "2", "3"], full.Detector.RoiHeads.BoxRoiPool.FeatureNames);
    }

    [Fact]
    public void AnFpnOverC2ToC4KeepsNoLayer4AndTrainsLocallyOverTheRemainingUnits()
    {
        var config = Config(trainable: 5, frozen: false) with { Method = LocalMethod.ManPlusPlus, K = 3, Split = "uniform", ReturnedLayers = [1, 2, 3] };
        using var model = DetectionModel.Create(config, seed: 0);
        // resnet18 without layer4: stem, layer1 (1-2), layer2 (3-4), layer3 (5-6).
        Assert.Equal(7, model.Network.Count);
        Assert.Equal(3, model.Network.StageCount);
        Assert.Equal([2, 4, 6], model.Task.Head.Taps.Select(t => t.UnitIndex));
        Assert.Equal([4L, 8, 16], model.Task.Head.Taps.Select(t => t.Stride));
        Assert.Equal([64L, 128, 256], model.Task.Head.Fpn.InChannels);
        Assert.Equal([[32.0], [64.0], [128.0], [256.0]], model.Detector.Rpn.Options.AnchorSizes.Select(l => l.ToArray()));
        Assert.Equal(3, model.Learner.Plan.Starts.Count);
        Assert.Equal(7, model.Learner.Plan.UnitCount);
        Assert.DoesNotContain(model.Detector.state_dict().Keys, k => k.Contains("layer4", StringComparison.Ordinal));
        Assert.Contains("backbone.body.layer3.1.conv2.weight", model.Detector.state_dict().Keys);

        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            model.Detector.eval();
            var maps = model.Detector.Backbone.forward(zeros(1, 3, 64, 96));
            Assert.Equal(["0", "1", "2", "pool"], maps.Keys);
            Assert.Equal([[1L, 256, 16, 24], [1, 256, 8, 12], [1, 256, 4, 6], [1, 256, 2, 3]], maps.Values.Select(m => m.shape));
        }

        // The checkpoint rebuilds the truncated body.
        string path = Path.Combine(Path.GetTempPath(), $"man-det-meta-c234-{Environment.ProcessId}-{Guid.NewGuid():N}.ckpt");
        using (var trainer = new LocalTrainer<Man.Vision.Detection.LocalLearning.DetectionTargets>(model.Learner, new TrainerOptions()))
            trainer.Save(path, config.ToMeta());
        using (var loaded = DetectionModel.Load(path))
        {
            Assert.Equal(7, loaded.Network.Count);
            var a = model.Learner.state_dict();
            Assert.Equal(a.Keys.Order(), loaded.Learner.state_dict().Keys.Order());
            foreach (var (name, t) in loaded.Learner.state_dict()) Assert.True(t.equal(a[name]).all().item<bool>(), name);
        }
        File.Delete(path);

        // The stages split has one block per remaining stage at most.
        var e = Assert.Throws<ArgumentException>(() => DetectionModel.Create(config with { K = 4, Split = "stages" }, seed: 0));
        Assert.Contains("at most 3 blocks", e.Message);
    }

    [Fact]
    public void ReturnedLayersAreStoredInTheCheckpointAndOldCheckpointsMeanC2ToC5()
    {
        var config = Config(trainable: 5, frozen: false) with { ReturnedLayers = [2, 3, 4] };
        using var model = DetectionModel.Create(config, seed: 0);
        string path = Path.Combine(Path.GetTempPath(), $"man-det-meta-c345-{Environment.ProcessId}-{Guid.NewGuid():N}.ckpt");
        using (var trainer = new LocalTrainer<Man.Vision.Detection.LocalLearning.DetectionTargets>(model.Learner, new TrainerOptions()))
            trainer.Save(path, config.ToMeta());
        Assert.Equal("2,3,4", config.ToMeta()["returned_layers"]);
        Assert.Equal([2, 3, 4], DetectionModelConfig.FromCheckpoint(path).FpnLayers);
        using (var loaded = DetectionModel.Load(path))
        {
            Assert.Equal([4, 6, 8], loaded.Task.Head.Taps.Select(t => t.UnitIndex));
            var a = model.Learner.state_dict();
            foreach (var (name, t) in loaded.Learner.state_dict()) Assert.True(t.equal(a[name]).all().item<bool>(), name);
        }

        var plain = Config(trainable: 5, frozen: false);
        using var old = DetectionModel.Create(plain, seed: 0);
        var meta = plain.ToMeta();
        meta.Remove("returned_layers");
        using (var trainer = new LocalTrainer<Man.Vision.Detection.LocalLearning.DetectionTargets>(old.Learner, new TrainerOptions()))
            trainer.Save(path, meta);
        Assert.Equal([1, 2, 3, 4], DetectionModelConfig.FromCheckpoint(path).FpnLayers);
        File.Delete(path);
    }

    [Theory]
    [InlineData("3,3", "must increase")]
    [InlineData("3,2,4", "must increase")]
    [InlineData("0,4", "stages 1..4")]
    [InlineData("2,5", "stages 1..4")]
    [InlineData("", "stages 1..4")]
    [InlineData("2,x,4", "'x' is not a stage number")]
    public void BadReturnedLayersAreRefusedWithTheRule(string text, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => DetectionModelConfig.ParseReturnedLayers(text));
        Assert.Contains(expected, e.Message);
        if (!text.Contains('x'))
        {
            int[] layers = text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            Assert.Throws<ArgumentException>(() => (Config(trainable: 5, frozen: false) with { ReturnedLayers = layers }).Validate());
            Assert.Throws<ArgumentException>(() => (TinyDetectionRun.Options(LocalMethod.E2E, 1, 1) with { ReturnedLayers = layers }).Validate());
        }
        Assert.Equal([1, 2, 3, 4], DetectionModelConfig.ParseReturnedLayers(" 1, 2,3 ,4"));
    }
}
