using System.Diagnostics;
using Man.Local;
using Man.Vision.Segmentation.Evaluation;
using Man.Vision.Segmentation.Inference;
using Man.Vision.Segmentation.LocalLearning;
using Man.Vision.Segmentation.Losses;
using Man.Vision.Segmentation.Models;
using Man.Vision.Segmentation.Tests.Support;
using Man.Vision.Segmentation.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Tests.Training;

/// <summary>
/// Short trainings on synthetic rectangles (3 classes on noise, 1-pixel ignored border): a real mIoU, measured with
/// <see cref="IoUMetric"/> on held-out images, far above chance (a constant "background" prediction scores ≈ 25 mIoU).
/// </summary>
public sealed class SyntheticTrainingTests(ITestOutputHelper output)
{
    private const int Size = 48;
    private const int Batch = 8;
    private const int Iterations = 60;

    [Fact]
    public void End_to_end_DeepLabV3_with_aux_head_reaches_a_real_mIoU()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var rng = new Random(1);
        using var model = SegmentationModel.Create(new TinyBackbone(16), SegmentationHeadKind.DeepLabV3, 3, auxLoss: true);
        using var sgd = optim.SGD(model.parameters(), 0.02, momentum: 0.9, weight_decay: 1e-4);
        var schedule = new PolyLearningRate(sgd, Iterations);
        var criterion = new SegmentationCriterion();
        var watch = Stopwatch.StartNew();
        double first = 0, last = 0;
        model.train();
        for (int it = 0; it < Iterations; it++)
        {
            using var step = NewDisposeScope();
            var (images, labels) = SyntheticShapes.Batch(rng, Batch, Size, Size);
            sgd.zero_grad();
            var losses = criterion.Losses(model.forward(images), labels);
            Tensor loss = losses["out"] + losses["aux"];
            loss.backward();
            sgd.step();
            schedule.Step();
            if (it == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        var metrics = Evaluate(images => SegmentationInference.Predict(model, images));
        output.WriteLine($"e2e: loss {first:F3} → {last:F3}, {watch.Elapsed.TotalSeconds:F1} s\n{metrics.FormatTable()}");
        Assert.True(last < first / 2, $"loss {first} → {last}");
        Assert.True(metrics.MIoU > 60, $"mIoU {metrics.MIoU:F2}");
    }

    [Fact]
    public void ManPlusPlus_with_two_blocks_on_the_engine_reaches_a_real_mIoU()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var rng = new Random(2);
        // K = 2 on Man.Local's engine: [conv1, layer1, layer2] learn from the FCN-style auxiliary head on
        // s·LB(h) + (2 − s)·EMA(h) (copies of layer3), [layer3, layer4] from DeepLabV3 + the aux FCN head on layer3.
        using var backbone = new TinyBackbone(16);
        var main = SegmentationMainHead.Create(SegmentationHeadKind.DeepLabV3, 3, lastChannels: 64, outputStride: 8, auxChannels: 32, auxUnitIndex: 3);
        using var learner = new LocalLearner<Tensor>(backbone, new TinyUnits(backbone), new SegmentationLocalTask(main, 3),
            new SplitPlan([0, 3], 5), new LocalLearningOptions { Method = LocalMethod.ManPlusPlus }, [3, Size, Size]);
        using var sgd = optim.SGD(learner.TrainableParameters(), 0.02, momentum: 0.9, weight_decay: 1e-4);
        var schedule = new PolyLearningRate(sgd, Iterations);
        var watch = Stopwatch.StartNew();
        StepResult? first = null, last = null;
        learner.train();
        for (int it = 0; it < Iterations; it++)
        {
            using var step = NewDisposeScope();
            var (images, labels) = SyntheticShapes.Batch(rng, Batch, Size, Size);
            sgd.zero_grad();
            last = learner.Step(images, labels);
            first ??= last;
            sgd.step();
            schedule.Step();
        }
        learner.eval();
        var metrics = Evaluate(images =>
        {
            using var noGrad = no_grad();
            using var s = NewDisposeScope();
            var (outputs, x) = learner.RunUnits(images);
            return main.Forward(outputs, x, images.shape[2], images.shape[3]).Out.argmax(1).MoveToOuterDisposeScope();
        });
        output.WriteLine($"manpp K=2: aux loss {first!.BlockLosses[0]:F3} → {last!.BlockLosses[0]:F3}, main loss {first.MainLoss:F3} → {last.MainLoss:F3} " +
            $"(out {last.NamedLosses["out"]:F3}, aux {last.NamedLosses["aux"]:F3}), s = {last.S[0]:F3}, {watch.Elapsed.TotalSeconds:F1} s\n{metrics.FormatTable()}");
        Assert.True(last.BlockLosses[0] < first.BlockLosses[0] && last.MainLoss < first.MainLoss, "both blocks' losses should fall");
        Assert.True(metrics.MIoU > 60, $"mIoU {metrics.MIoU:F2}");
    }

    [Theory]
    [InlineData(LocalMethod.E2E, 1)]
    [InlineData(LocalMethod.Greedy, 3)]
    [InlineData(LocalMethod.InfoPro, 2)]
    [InlineData(LocalMethod.Man, 2)]
    [InlineData(LocalMethod.ManPlusPlus, 3)]
    public void Every_engine_method_trains_every_block(LocalMethod method, int k)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var rng = new Random(3);
        using var backbone = new TinyBackbone(8);
        var main = SegmentationMainHead.Create(SegmentationHeadKind.Fcn, 3, lastChannels: 32, outputStride: 8, auxChannels: 16, auxUnitIndex: 3);
        var plan = k switch { 1 => SplitPlan.Single(5), 2 => new SplitPlan([0, 3], 5), _ => new SplitPlan([0, 2, 4], 5) };
        using var learner = new LocalLearner<Tensor>(backbone, new TinyUnits(backbone), new SegmentationLocalTask(main, 3),
            plan, new LocalLearningOptions { Method = method }, [3, 40, 40]);
        Assert.Equal(k - 1, learner.Auxiliaries.Count);
        using var sgd = optim.SGD(learner.TrainableParameters(), 0.01, momentum: 0.9);
        var before = backbone.Stages.Select(u => u.parameters().First().detach().clone()).ToList();
        for (int it = 0; it < 2; it++)
        {
            using var step = NewDisposeScope();
            var (images, labels) = SyntheticShapes.Batch(rng, 2, 40, 40);
            sgd.zero_grad();
            StepResult r = learner.Step(images, labels);
            Assert.Equal(k, r.BlockLosses.Length);
            Assert.All(r.BlockLosses, l => Assert.True(double.IsFinite(l) && l > 0));
            Assert.Equal(["out", "aux"], r.NamedLosses.Keys);
            sgd.step();
        }
        for (int u = 0; u < 5; u++)
            Assert.False(before[u].allclose(backbone.Stages[u].parameters().First()), $"unit {u} did not change under {method}");
    }

    private static SegmentationMetrics Evaluate(Func<Tensor, Tensor> predict)
    {
        var rng = new Random(12345);
        var metric = new IoUMetric(3, classNames: ["background", "red", "cyan"]);
        for (int b = 0; b < 4; b++)
        {
            using var scope = NewDisposeScope();
            var (images, labels) = SyntheticShapes.Batch(rng, 8, Size, Size);
            metric.Process(predict(images), labels);
        }
        return metric.Evaluate();
    }
}
