using Man.Local;
using Man.Vision.Detection.LocalLearning;
using Man.Vision.Detection.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.LocalLearning;

public sealed class RcnnDetectionAuxHeadTests
{
    private static RcnnHeadOptions Small => new()
    {
        Width = 16, RepresentationSize = 32, AnchorSizes = [16, 32], AspectRatios = [1.0], PreNmsTopN = 200, PostNmsTopN = 50, BatchSizePerImage = 32,
    };

    [Fact]
    public void WithoutObjectsOnlyTheClassificationTermsRemain()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(1);
        var head = new RcnnDetectionAuxHead(8, 3, Small);
        Tensor features = torch.randn(2, 8, 16, 16);
        var target = new DetectionTargets([DetectionTarget.Empty(), DetectionTarget.Empty()], [new(64, 64), new(64, 60)], new ImageSize(64, 64));
        var losses = head.Losses(features, target);
        Assert.Equal(new[] { "loss_box_reg", "loss_classifier", "loss_objectness", "loss_rpn_box_reg" }, losses.Keys.Order().ToArray());
        // No foreground anchor or RoI: both box terms are exactly zero, the two classification terms positive.
        Assert.Equal(0f, losses["loss_box_reg"].item<float>());
        Assert.Equal(0f, losses["loss_rpn_box_reg"].item<float>());
        Assert.True(losses["loss_classifier"].item<float>() > 0);
        Assert.True(losses["loss_objectness"].item<float>() > 0);
        // The objectness logits start near 0 (std 0.01 weights): binary cross-entropy ≈ log 2.
        Assert.Equal(Math.Log(2), losses["loss_objectness"].item<float>(), 1);
        torch.manual_seed(1);
        var again = new RcnnDetectionAuxHead(8, 3, Small);
        torch.manual_seed(7);
        var sum = again.Losses(features, target).Values.Aggregate((a, b) => a + b).item<float>();
        torch.manual_seed(7);
        Assert.Equal(sum, again.Loss(features, target).item<float>(), 5);
    }

    [Fact]
    public void LossReachesTheFeaturesAndFallsWithTraining()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(2);
        var (first, last) = AuxHeadTraining.Train(new RcnnDetectionAuxHead(8, 2, Small), 80, 3e-3);
        Assert.True(last < 0.6 * first, $"Auxiliary loss fell from {first:F3} to {last:F3} only.");
    }

    [Fact]
    public void TheTaskBuildsTheHeadOfItsOptions()
    {
        using var scope = NewDisposeScope();
        var task = new DetectionLocalTask([new FeatureTap(0, 8, 4), new FeatureTap(1, 8, 8)], DenseDetectionAuxHeadTests.TinyFasterRcnnOptions(), Small, fpnChannels: 8);
        Assert.IsType<RcnnDetectionAuxHead>(task.CreateAuxiliaryHead(new AuxiliaryHeadContext(0, [8, 16, 16], [3, 64, 64])));
        Assert.IsType<RcnnHeadOptions>(AuxHeadOptions.Parse(" RCNN "));
        Assert.Equal(4, Assert.IsType<DenseHeadOptions>(AuxHeadOptions.Parse("dense", minStride: 4)).MinStride);
        var e = Assert.Throws<ArgumentException>(() => AuxHeadOptions.Parse("retina"));
        Assert.Contains("dense", e.Message);
    }
}
