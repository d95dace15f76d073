using Man.Vision.Backbones.Norm;
using Man.Vision.Backbones.ResNets;
using Man.Vision.Backbones.Weights;
using TorchSharp;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace Man.Vision.Backbones.Tests;

/// <summary>Same weights, same inputs: our ResNets agree with torchvision's (eval mode) to 1e-4 relative.</summary>
public sealed class ParityTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    private void AssertParity(ResNet model, string weights, string outputsFile, string inputKey, bool strict = true)
    {
        using var scope = NewDisposeScope();
        var report = WeightLoader.Load(model, ReferenceFixtures.File(weights), new WeightLoadOptions { Strict = strict });
        output.WriteLine(report.Summary);
        Assert.False(report.HasProblems, report.ToText());
        Assert.Equal(report.ModelTensors, report.Loaded.Count);
        model.eval();
        var x = ReferenceFixtures.Tensors("inputs.pth")[inputKey];
        var expected = ReferenceFixtures.Tensors(outputsFile);
        using var _ = no_grad();
        var logits = model.forward(x);
        var features = model.ForwardFeatures(x);
        var stem = model[0].forward(x);
        output.WriteLine($"logits rel. error {TensorAssert.Close(expected["logits"], logits, Tolerance, "logits"):E2}");
        TensorAssert.Close(expected["stem"], stem, Tolerance, "stem");
        for (int s = 0; s < model.StageCount; s++)
        {
            double rel = TensorAssert.Close(expected[$"layer{s + 1}"], features[$"c{s + 2}"], Tolerance, $"layer{s + 1}");
            output.WriteLine($"layer{s + 1} rel. error {rel:E2}");
        }
    }

    [Theory]
    [InlineData("resnet18", "resnet18.pth")]
    [InlineData("resnet18", "resnet18.safetensors")]
    [InlineData("resnet50", "resnet50.pth")]
    [InlineData("resnet50", "resnet50.safetensors")]
    public void TorchvisionResNetsAgree(string arch, string weights)
    {
        using var model = ResNetFactory.Create(arch);
        AssertParity(model, weights, $"{arch}_outputs.pth", "images");
    }

    [Fact]
    public void DilatedResNet50WithOutputStride8Agrees()
    {
        using var model = ResNetFactory.Create("resnet50", replaceStrideWithDilation: [false, true, true]);
        AssertParity(model, "resnet50.pth", "resnet50_os8_outputs.pth", "images");
    }

    [Fact]
    public void FrozenBatchNormResNet50Agrees()
    {
        using var model = ResNetFactory.Create("resnet50", norm: NormKind.FrozenBatchNorm);
        AssertParity(model, "resnet50.pth", "resnet50_outputs.pth", "images");
    }

    [Fact]
    public void ResNeXtBottlenecksWithGroupedConvolutionsAgree()
    {
        using var model = new ResNet(new ResNetOptions { Block = BlockKind.Bottleneck, Layers = [1, 1, 1, 1], Groups = 32, WidthPerGroup = 4, NumClasses = 10 });
        AssertParity(model, "resnext_tiny.safetensors", "resnext_tiny_outputs.pth", "images");
    }

    [Fact]
    public void CifarResNet32AgreesWithTheReferenceDefinition()
    {
        using var model = ResNetFactory.Create("resnet32");
        AssertParity(model, "cifar_resnet32.pth", "cifar_resnet32_outputs.pth", "cifar_images");
    }

    [Fact]
    public void TrainingModeForwardUsesBatchStatisticsLikeTorch()
    {
        // In training mode BN normalises with batch statistics: the output is then independent of the running stats.
        using var scope = NewDisposeScope();
        using var a = ResNetFactory.Create("resnet18");
        WeightLoader.Load(a, ReferenceFixtures.File("resnet18.pth"));
        a.train();
        var x = ReferenceFixtures.Tensors("inputs.pth")["images"];
        var y1 = a.ForwardBackbone(x);
        foreach (var (_, m) in a.named_modules())
            if (m is TorchSharp.Modules.BatchNorm2d bn) { using var g = no_grad(); bn.running_mean!.add_(5.0); }
        var y2 = a.ForwardBackbone(x);
        TensorAssert.Close(y1, y2, 1e-5, "train-mode output");
    }
}
