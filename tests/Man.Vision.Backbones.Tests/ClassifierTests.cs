using Man.Vision.Backbones.Classification;
using Man.Vision.Backbones.ResNets;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Tests;

public sealed class ClassifierTests
{
    [Fact]
    public void ReplaceClassifierChangesOnlyFcAndKeepsTorchvisionNames()
    {
        using var scope = NewDisposeScope();
        using var model = ResNetFactory.Create("resnet18");
        var keys = model.state_dict().Keys.ToList();
        var conv1 = model.state_dict()["conv1.weight"].clone();
        model.ReplaceClassifier(10);
        Assert.Equal(keys, model.state_dict().Keys.ToList());
        Assert.Equal([10L, 512], model.state_dict()["fc.weight"].shape);
        Assert.Equal(10, model.NumClasses);
        Assert.Equal(10, model.Head!.NumClasses);
        Assert.Same(model.Head.Fc, model.named_children().First(c => c.name == "fc").module);
        TensorAssert.Equal(conv1, model.state_dict()["conv1.weight"], "backbone weights unchanged");
        model.eval();
        using var _ = no_grad();
        Assert.Equal([3L, 10], model.forward(randn(3, 3, 64, 64)).shape);
    }

    [Fact]
    public void ModelWithoutClassifierCanGetOne()
    {
        using var scope = NewDisposeScope();
        using var model = ResNetFactory.Create("resnet34", numClasses: 0);
        Assert.Null(model.Head);
        Assert.DoesNotContain(model.state_dict().Keys, k => k.StartsWith("fc.", StringComparison.Ordinal));
        model.ReplaceClassifier(7);
        Assert.Equal(["fc.bias", "fc.weight"], model.state_dict().Keys.Where(k => k.StartsWith("fc.")).Order());
        model.eval();
        using var _ = no_grad();
        Assert.Equal([1L, 7], model.forward(randn(1, 3, 64, 64)).shape);
    }

    [Fact]
    public void ClassificationHeadPoolsAndClassifies()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var head = new ClassificationHead(4, 3);
        Assert.Equal(["fc.weight", "fc.bias"], head.named_parameters().Select(p => p.name).ToArray());
        var x = randn(2, 4, 5, 5);
        var expected = nn.functional.linear(x.mean([2, 3]), head.Fc.weight!, head.Fc.bias);
        TensorAssert.Close(expected, head.forward(x), 1e-6, "pool + fc");
        head.ReplaceClassifier(6);
        Assert.Equal([2L, 6], head.forward(x).shape);
    }
}
