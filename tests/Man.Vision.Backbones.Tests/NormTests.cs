using Man.Vision.Backbones.Norm;
using Man.Vision.Backbones.ResNets;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Tests;

public sealed class NormTests
{
    [Theory]
    [InlineData(1e-5)]
    [InlineData(1e-3)]
    public void FrozenBatchNormEqualsBatchNormInEvalMode(double eps)
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var bn = nn.BatchNorm2d(6, eps: eps);
        using (no_grad())
        {
            bn.weight!.copy_(rand(6) + 0.5);
            bn.bias!.copy_(randn(6));
            bn.running_mean!.copy_(randn(6));
            bn.running_var!.copy_(rand(6) + 0.1);
        }
        bn.eval();
        var frozen = FrozenBatchNorm2d.From(bn);
        Assert.Equal(eps, frozen.Eps);
        var x = randn(3, 6, 5, 7);
        TensorAssert.Close(bn.forward(x), frozen.forward(x), 1e-6, "frozen vs eval BN");
        // The closed form y = (x − mean) / sqrt(var + eps) · weight + bias.
        var expected = (x - bn.running_mean!.reshape(1, -1, 1, 1)) / (bn.running_var!.reshape(1, -1, 1, 1) + eps).sqrt()
                       * bn.weight!.reshape(1, -1, 1, 1) + bn.bias!.reshape(1, -1, 1, 1);
        TensorAssert.Close(expected, frozen.forward(x), 1e-6, "closed form");
    }

    [Fact]
    public void FrozenBatchNormHasFourBuffersAndNoParametersAndIgnoresTrainingMode()
    {
        using var scope = NewDisposeScope();
        var frozen = new FrozenBatchNorm2d(3);
        Assert.Empty(frozen.parameters());
        Assert.Equal(["weight", "bias", "running_mean", "running_var"], frozen.named_buffers().Select(b => b.name).ToArray());
        frozen.train();
        var x = randn(4, 3, 2, 2) * 3 + 1;
        TensorAssert.Close(x / Math.Sqrt(1 + 1e-5), frozen.forward(x), 1e-6, "identity statistics");
        Assert.Equal(0f, frozen.RunningMean.abs().sum().item<float>());
    }

    [Fact]
    public void ConvertingAModelKeepsItsOutputsAndNamesWithoutCounters()
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        using var model = ResNetFactory.Create("resnet18");
        TestModels.RandomizeBatchNorm(model, 3);
        model.eval();
        var x = randn(2, 3, 64, 64);
        Tensor before;
        using (no_grad()) before = model.forward(x);
        var keys = model.state_dict().Keys.Where(k => !k.EndsWith("num_batches_tracked")).ToList();

        int converted = BatchNormFreezer.ConvertToFrozen(model);

        Assert.Equal(20, converted); // bn1, 2 per block x 8, 3 shortcuts
        Assert.Equal(keys, model.state_dict().Keys.ToList());
        Assert.IsType<FrozenBatchNorm2d>(model.Stem.Bn1);
        Assert.Same(model.named_children().First(c => c.name == "bn1").module, model.Stem.Bn1);
        Assert.DoesNotContain(model.named_modules(), m => m.module is BatchNorm2d);
        Assert.DoesNotContain(model.named_parameters(), p => p.name.Contains("bn") || p.name.Contains("downsample.1"));
        using (no_grad()) TensorAssert.Close(before, model.forward(x), 1e-5, "outputs after freezing");
        // Training mode changes nothing any more.
        model.train();
        using (no_grad()) TensorAssert.Close(before, model.forward(x), 1e-5, "train-mode outputs after freezing");
        Assert.Equal(0, BatchNormFreezer.ConvertToFrozen(model));
    }

    [Fact]
    public void ConvertingABatchNormInsideAForeignModuleSaysWhatToDo()
    {
        using var seq = nn.Sequential(("conv", nn.Conv2d(3, 4, 3)), ("bn", nn.BatchNorm2d(4)));
        var e = Assert.Throws<InvalidOperationException>(() => BatchNormFreezer.ConvertToFrozen(seq));
        Assert.Contains("'bn'", e.Message);
        Assert.Contains("NormKind.FrozenBatchNorm", e.Message);
    }
}
