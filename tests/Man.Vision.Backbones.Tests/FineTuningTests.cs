using Man.Vision.Backbones.FineTuning;
using Man.Vision.Backbones.Norm;
using Man.Vision.Backbones.ResNets;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Tests;

public sealed class FineTuningTests
{
    [Fact]
    public void FreezeAtFreezesTheStemAndTheFirstStagesOnly()
    {
        using var model = ResNetFactory.Create("resnet18");
        var units = FineTuner.FreezeAt(model, 3, freezeBatchNorm: true);

        Assert.Equal([0, 1, 2, 3, 4], units); // stem, layer1.0-1, layer2.0-1
        Assert.Equal(units, FineTuner.FrozenUnits(model));
        foreach (var (name, p) in model.named_parameters())
        {
            bool frozen = name.StartsWith("conv1") || name.StartsWith("bn1") || name.StartsWith("layer1.") || name.StartsWith("layer2.");
            Assert.True(p.requires_grad != frozen, $"{name}: requires_grad = {p.requires_grad}");
        }
        // BN of frozen stages became FrozenBatchNorm2d (its parameters vanished); later stages keep BatchNorm2d.
        Assert.IsType<FrozenBatchNorm2d>(model.Stem.Bn1);
        Assert.All(model.Blocks.Take(4), b => Assert.All(b.NormLayers, n => Assert.IsType<FrozenBatchNorm2d>(n.Norm)));
        Assert.All(model.Blocks.Skip(4), b => Assert.All(b.NormLayers, n => Assert.IsType<BatchNorm2d>(n.Norm)));
        Assert.Contains(model.named_parameters(), p => p.name == "layer3.0.bn1.weight" && p.parameter.requires_grad);
    }

    [Fact]
    public void FreezeAtBoundsAndZero()
    {
        using var model = ResNetFactory.Create("resnet18");
        Assert.Empty(FineTuner.FreezeAt(model, 0));
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
        Assert.Throws<ArgumentOutOfRangeException>(() => FineTuner.FreezeAt(model, 6));
        Assert.Equal([0], FineTuner.FreezeAt(model, 1));
        Assert.False(model.Stem.Conv1.weight!.requires_grad);
        Assert.True(model.Blocks[0].parameters().All(p => p.requires_grad));
    }

    [Fact]
    public void ParameterGroupsSplitBackboneAndHeadAndSkipFrozenParameters()
    {
        using var model = ResNetFactory.Create("resnet18", numClasses: 5);
        var groups = FineTuner.ParameterGroups(model, 0.001, 0.01);
        Assert.Equal(["backbone", "head"], groups.Select(g => g.Name));
        Assert.Equal(model.parameters().Count() - 2, groups[0].Parameters.Count);
        Assert.Equal(2, groups[1].Parameters.Count);
        Assert.Equal(0.001, groups[0].LearningRate);
        Assert.Equal(0.01, groups[1].LearningRate);

        FineTuner.FreezeAt(model, 5); // everything but fc
        groups = FineTuner.ParameterGroups(model, 0.001, 0.01);
        Assert.Equal(["head"], groups.Select(g => g.Name));

        // The groups feed TorchSharp's SGD with their own rates.
        using var scope = NewDisposeScope();
        var sgd = torch.optim.SGD(groups.Select(g => g.ToSgd(momentum: 0.9)), 0.1);
        var fcBefore = model.Head!.Fc.weight!.clone();
        var conv1Before = model.Stem.Conv1.weight!.clone();
        var loss = model.forward(randn(2, 3, 32, 32)).square().sum();
        loss.backward();
        sgd.step();
        Assert.False(TensorAssert.Identical(fcBefore, model.Head.Fc.weight!));
        Assert.True(TensorAssert.Identical(conv1Before, model.Stem.Conv1.weight!));
    }
}
