using Man.Vision.Backbones.Features;
using Man.Vision.Backbones.ResNets;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Tests;

public sealed class FeatureBackboneTests
{
    [Fact]
    public void ResNet50FeatureMapsHaveDetectron2ShapesAndStageEndUnits()
    {
        using var model = ResNetFactory.Create("resnet50");
        IFeatureBackbone backbone = model;
        Assert.Equal(
            [new FeatureMapSpec("c2", 256, 4, 3), new FeatureMapSpec("c3", 512, 8, 7), new FeatureMapSpec("c4", 1024, 16, 13), new FeatureMapSpec("c5", 2048, 32, 16)],
            backbone.FeatureMaps);
        Assert.Equal(32, backbone.SizeDivisibility);
        for (int s = 0; s < 4; s++) Assert.Equal(backbone.FeatureMaps[s].UnitIndex, model.StageEndUnit(s));
    }

    [Fact]
    public void DilationKeepsTheResolution()
    {
        using var os16 = ResNetFactory.Create("resnet101", replaceStrideWithDilation: [false, false, true]);
        Assert.Equal([4L, 8, 16, 16], os16.FeatureMaps.Select(m => m.Stride));
        using var os8 = ResNetFactory.Create("resnet50", replaceStrideWithDilation: [false, true, true]);
        Assert.Equal([4L, 8, 8, 8], os8.FeatureMaps.Select(m => m.Stride));
        Assert.Equal(8, os8.SizeDivisibility);
    }

    [Fact]
    public void CifarResNetHasThreeFeatureMaps()
    {
        using var model = ResNetFactory.Create("resnet32");
        Assert.Equal([new FeatureMapSpec("c2", 16, 1, 5), new FeatureMapSpec("c3", 32, 2, 10), new FeatureMapSpec("c4", 64, 4, 15)], model.FeatureMaps);
    }

    [Fact]
    public void ForwardFeaturesReturnsTheRequestedMapsWithTheirShapes()
    {
        using var scope = NewDisposeScope();
        using var model = ResNetFactory.Create("resnet18", numClasses: 0);
        model.eval();
        var x = randn(2, 3, 64, 96);
        using var _ = no_grad();
        var some = model.ForwardFeatures(x, ["c3", "c5"]);
        Assert.Equal(["c3", "c5"], some.Keys.Order());
        Assert.Equal([2L, 128, 8, 12], some["c3"].shape);
        Assert.Equal([2L, 512, 2, 3], some["c5"].shape);
        TensorAssert.Equal(model.forward(x), some["c5"], "c5 equals the backbone output");
        var e = Assert.Throws<ArgumentException>(() => model.ForwardFeatures(x, ["p5"]));
        Assert.Contains("c2, c3, c4, c5", e.Message);
    }
}
