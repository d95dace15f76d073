using Man.Local;
using Man.Vision.Backbones.ResNets;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Tests;

public sealed class UnitSequenceTests
{
    private static Tensor RunUnits(IUnitSequence units, Tensor x)
    {
        using var scope = NewDisposeScope();
        for (int i = 0; i < units.Count; i++) x = units[i].forward(x);
        return x.MoveToOuterDisposeScope();
    }

    [Theory]
    [InlineData("resnet18", 64, false)]
    [InlineData("resnet50", 64, true)]
    [InlineData("resnet32", 32, false)]
    public void RunningTheUnitsInOrderEqualsTheModelForward(string arch, int size, bool dilated)
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        using var model = ResNetFactory.Create(arch, replaceStrideWithDilation: dilated ? [false, true, true] : null);
        TestModels.RandomizeBatchNorm(model, 5);
        model.eval();
        var x = randn(2, 3, size, size);
        using var _ = no_grad();
        var expected = model.forward(x);
        var features = RunUnits(model, x);
        var logits = model.Head!.forward(features);
        TensorAssert.Equal(expected, logits, "logits through units + head");
        TensorAssert.Equal(model.ForwardBackbone(x), features, "backbone through units");
    }

    [Fact]
    public void UnitsAreTheRegisteredModulesAndTheStemSharesConv1AndBn1()
    {
        using var model = ResNetFactory.Create("resnet50");
        var children = model.named_children().ToDictionary(p => p.name, p => p.module);
        Assert.Same(children["conv1"], model.Stem.Conv1);
        Assert.Same(children["bn1"], model.Stem.Bn1);
        Assert.Same(model[0], model.Stem);
        var layer2 = model.Stage(1);
        Assert.Same(layer2[0], model[1 + 3]);
        Assert.Same(model.Stage(3)[2], model[model.Count - 1]);
        // The stem is not registered in the model: the state dict keeps torchvision's names.
        Assert.DoesNotContain(model.state_dict().Keys, k => k.StartsWith("stem", StringComparison.Ordinal));
        Assert.Equal(["conv1.weight", "bn1.weight", "bn1.bias"], model[0].named_parameters().Select(p => p.name).ToArray());
    }

    [Theory]
    [InlineData("resnet18", 9, "layer4.1")]
    [InlineData("resnet50", 17, "layer4.2")]
    [InlineData("resnet101", 34, "layer4.2")]
    [InlineData("resnet32", 16, "layer3.4")]
    [InlineData("resnet110", 55, "layer3.17")]
    public void UnitCountsAndNames(string arch, int count, string last)
    {
        using var model = ResNetFactory.Create(arch);
        Assert.Equal(count, model.Count);
        Assert.Equal("stem", model.UnitName(0));
        Assert.Equal("layer1.0", model.UnitName(1));
        Assert.Equal(last, model.UnitName(count - 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.UnitName(count));
    }

    [Theory]
    [InlineData("resnet50")]
    [InlineData("resnet32")]
    public void CreateLikeGivesFreshModulesWithTheUnitsParameterNamesAndShapes(string arch)
    {
        manual_seed(2);
        using var model = ResNetFactory.Create(arch);
        for (int i = 0; i < model.Count; i++)
        {
            var unit = model[i];
            using var copy = model.CreateLike(i);
            Assert.NotSame(unit, copy);
            var a = unit.named_parameters().Select(p => (p.name, TestModels.ShapeText(p.parameter.shape))).ToList();
            var b = copy.named_parameters().Select(p => (p.name, TestModels.ShapeText(p.parameter.shape))).ToList();
            Assert.Equal(a, b);
            var ab = unit.named_buffers().Select(p => p.name).ToList();
            Assert.Equal(ab, copy.named_buffers().Select(p => p.name).ToList());
            // Fresh initialisation, not a copy of the unit's values (the first convolution differs).
            var w1 = unit.named_parameters().First().parameter;
            var w2 = copy.named_parameters().First().parameter;
            Assert.False(TensorAssert.Identical(w1, w2), $"unit {model.UnitName(i)}: CreateLike copied the weights");
        }
    }

    [Fact]
    public void DescribeUnitsMatchesTheShapesOfARealForwardPass()
    {
        using var scope = NewDisposeScope();
        using var model = ResNetFactory.Create("resnet50", replaceStrideWithDilation: [false, false, true]);
        model.eval();
        var info = model.DescribeUnits(96, 64);
        var x = randn(1, 3, 96, 64);
        using var _ = no_grad();
        for (int i = 0; i < model.Count; i++)
        {
            x = model[i].forward(x);
            Assert.Equal(model.UnitName(i), info[i].Name);
            Assert.Equal([1, info[i].Channels, info[i].Height, info[i].Width], x.shape);
            Assert.Equal(96 / info[i].Height, info[i].Stride);
        }
        Assert.Equal([4L, 8, 16, 16], new[] { 3, 7, 13, 16 }.Select(i => info[i].Stride));
        Assert.Equal(TestModels.ParameterCount(model) - TestModels.ParameterCount(model.Head!), info.Sum(u => u.Parameters));
    }

    [Fact]
    public void ActivationEstimatesFollowTheDocumentedFormula()
    {
        using var model = ResNetFactory.Create("resnet18");
        var info = model.DescribeUnits(64, 64);
        // Stem: conv and BN outputs at 32x32 (64 channels) plus the pooled 16x16 output.
        Assert.Equal(2 * 64 * 32 * 32 + 64 * 16 * 16, info[0].ActivationElements);
        // Basic block without shortcut: conv1, bn1, conv2, bn2 outputs (ReLU and sum in place).
        Assert.Equal(4 * 64 * 16 * 16, info[1].ActivationElements);
        // First block of layer2: stride 2, plus the projection shortcut's conv and BN.
        Assert.Equal(6 * 128 * 8 * 8, info[3].ActivationElements);
        Assert.Equal(64 * 16 * 16, info[1].OutputElements);
    }
}
