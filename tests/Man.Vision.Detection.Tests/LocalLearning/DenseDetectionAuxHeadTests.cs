using Man.Local;
using Man.Vision.Detection.LocalLearning;
using Man.Vision.Detection.Models;
using Man.Vision.Detection.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.LocalLearning;

public sealed class DenseDetectionAuxHeadTests
{
    private static DenseHeadOptions Small => new() { Width = 16, MinStride = 8, AnchorSizes = [16, 32], AspectRatios = [1.0] };

    [Fact]
    public void EmptyGroundTruthGivesTheFocalLossOfAllBackground()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(1);
        var head = new DenseDetectionAuxHead(8, 3, Small);
        Tensor features = torch.randn(2, 8, 16, 16);   // stride 4 in a 64×64 batch → pooled to stride 8
        var target = new DetectionTargets([DetectionTarget.Empty(), DetectionTarget.Empty()], [new(64, 64), new(64, 60)], new ImageSize(64, 64));
        Tensor loss = head.Loss(features, target);
        var (logits, _) = head.Predict(features, target.BatchSize);
        Assert.Equal(new long[] { 2, 2 * 2, 8, 8 }, logits.shape);
        // No positives: normaliser 1, no box term; every anchor is background.
        double expected = FocalLoss.Sigmoid(logits, torch.zeros_like(logits)).item<float>();
        Assert.Equal(expected, loss.item<float>(), 4);
        // With the prior 0.01 every logit starts at −log(99): loss ≈ 0.75·0.01²·(−log 0.99) per logit.
        double perLogit = 0.75 * 0.01 * 0.01 * -Math.Log(0.99);
        Assert.Equal(perLogit * logits.numel(), loss.item<float>(), 3);
    }

    [Fact]
    public void LossReachesTheFeaturesAndFallsWithTraining()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(2);
        var (first, last) = AuxHeadTraining.Train(new DenseDetectionAuxHead(8, 2, Small), 60, 5e-3);
        Assert.True(last < 0.5 * first, $"Auxiliary loss fell from {first:F3} to {last:F3} only.");
    }

    [Fact]
    public void TheTaskBuildsAHeadForABlockShape()
    {
        using var scope = NewDisposeScope();
        var task = new DetectionLocalTask([new FeatureTap(0, 8, 4), new FeatureTap(1, 8, 8)], TinyFasterRcnnOptions(), Small, fpnChannels: 8);
        var head = task.CreateAuxiliaryHead(new AuxiliaryHeadContext(0, [8, 16, 16], [3, 64, 64]));
        Assert.IsType<DenseDetectionAuxHead>(head);
        Assert.Equal(new[] { 0, 1 }, task.MainHead.ExtraUnitOutputs);
        Assert.Throws<ArgumentException>(() => task.CreateAuxiliaryHead(new AuxiliaryHeadContext(0, [8], [3, 64, 64])));
    }

    internal static FasterRcnnOptions TinyFasterRcnnOptions() => Tests.Models.TinyFasterRcnnTests.TinyOptions;
}
