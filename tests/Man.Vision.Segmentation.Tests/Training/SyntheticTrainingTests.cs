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
    public void Greedy_local_learning_with_two_blocks_reaches_a_real_mIoU()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var rng = new Random(2);
        // K = 2: [conv1, layer1, layer2] learn from an FCN-style auxiliary head, [layer3, layer4] from DeepLabV3 + aux FCN on layer3.
        using var backbone = new TinyBackbone(16);
        var units = backbone.Stages;
        var loop = new MiniLocalLoop(units, [3, 5]);
        var main = SegmentationMainHead.Create(SegmentationHeadKind.DeepLabV3, 3, lastChannels: 64, outputStride: 8, auxChannels: 32, auxUnitIndex: 3);
        var task = new SegmentationLocalTask(main, 3);
        var aux = task.CreateAuxiliaryHead(new AuxiliaryHeadContext(0, [32, Size / 8, Size / 8], [3, Size, Size]));
        var parameters = backbone.parameters().Concat(main.parameters()).Concat(aux.parameters()).ToList();
        using var sgd = optim.SGD(parameters, 0.02, momentum: 0.9, weight_decay: 1e-4);
        var schedule = new PolyLearningRate(sgd, Iterations);
        var watch = Stopwatch.StartNew();
        double[] first = [], last = [];
        backbone.train();
        main.train();
        aux.train();
        for (int it = 0; it < Iterations; it++)
        {
            using var step = NewDisposeScope();
            var (images, labels) = SyntheticShapes.Batch(rng, Batch, Size, Size);
            sgd.zero_grad();
            double[] losses = loop.Step(images, labels, [aux], main);
            sgd.step();
            schedule.Step();
            if (it == 0) first = losses;
            last = losses;
        }
        backbone.eval();
        main.eval();
        var metrics = Evaluate(images =>
        {
            using var noGrad = no_grad();
            using var s = NewDisposeScope();
            var outputs = new Dictionary<int, Tensor>();
            Tensor x = images;
            for (int u = 0; u < units.Count; u++) outputs[u] = x = units[u].forward(x);
            return main.Forward(outputs, x, images.shape[2], images.shape[3]).Out.argmax(1).MoveToOuterDisposeScope();
        });
        output.WriteLine($"greedy K=2: aux loss {first[0]:F3} → {last[0]:F3}, main loss {first[1]:F3} → {last[1]:F3}, {watch.Elapsed.TotalSeconds:F1} s\n{metrics.FormatTable()}");
        Assert.True(last[0] < first[0] && last[1] < first[1], "both blocks' losses should fall");
        Assert.True(metrics.MIoU > 60, $"mIoU {metrics.MIoU:F2}");
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
