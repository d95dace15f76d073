using Man.Vision.Backbones.Norm;
using Man.Vision.Backbones.ResNets;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Tests;

public sealed class ArchitectureTests
{
    [Theory]
    [InlineData("resnet18")]
    [InlineData("resnet50")]
    public void StateDictKeysShapesAndDTypesEqualTorchvision_Committed(string arch)
    {
        var expected = File.ReadAllLines(Path.Combine(ReferenceFixtures.Committed, $"{arch}_keys.txt")).Where(l => l.Length > 0).ToList();
        using var model = ResNetFactory.Create(arch);
        Assert.Equal(expected, TestModels.KeyLines(model));
    }

    [Theory]
    [InlineData("resnet34")]
    [InlineData("resnet101")]
    [InlineData("resnet152")]
    [InlineData("resnext50_32x4d")]
    [InlineData("resnext101_32x8d")]
    public void StateDictKeysShapesAndDTypesEqualTorchvision_Generated(string arch)
    {
        var expected = File.ReadAllLines(ReferenceFixtures.File($"{arch}_keys.txt")).Where(l => l.Length > 0).ToList();
        using var model = ResNetFactory.Create(arch);
        Assert.Equal(expected, TestModels.KeyLines(model));
    }

    // torchvision's documented parameter counts (torchvision.models weights tables).
    [Theory]
    [InlineData("resnet18", 11_689_512)]
    [InlineData("resnet34", 21_797_672)]
    [InlineData("resnet50", 25_557_032)]
    [InlineData("resnext50_32x4d", 25_028_904)]
    public void ParameterCountsEqualTorchvision(string arch, long expected)
    {
        using var model = ResNetFactory.Create(arch);
        Assert.Equal(expected, TestModels.ParameterCount(model));
    }

    private static long CifarParameters(int n, int classes)
    {
        // Closed form of He et al.'s CIFAR ResNet with 1x1-conv+BN (option B) shortcuts where the shape changes.
        long total = 3 * 16 * 9 + 2 * 16; // stem conv + BN
        long inC = 16;
        foreach (long w in new long[] { 16, 32, 64 })
        {
            for (int b = 0; b < n; b++)
            {
                total += inC * w * 9 + 2 * w + w * w * 9 + 2 * w;
                if (inC != w) total += inC * w + 2 * w;
                inC = w;
            }
        }
        return total + 64 * classes + classes;
    }

    [Theory]
    [InlineData("resnet32", 5, 16)]
    [InlineData("resnet110", 18, 55)]
    public void CifarResNetsHaveHeEtAlDepthAndParameterCount(string arch, int n, int units)
    {
        using var model = ResNetFactory.Create(arch);
        Assert.Equal(units, model.Count);
        Assert.Equal(6 * n + 2, 1 + 2 * model.Blocks.Count + 1); // layers with weights: stem conv, 2 per block, fc
        long count = TestModels.ParameterCount(model);
        Assert.Equal(CifarParameters(n, 10), count);
        if (arch == "resnet32")
        {
            Assert.Equal(466_906, count);            // 0.46M of the paper (464,154) + 2,752 for the two projection shortcuts
            Assert.InRange(count / 1e6, 0.46, 0.47);
        }
        else
        {
            Assert.InRange(count / 1e6, 1.7, 1.74);  // paper: 1.7M
        }
    }

    [Fact]
    public void UnknownArchitectureListsValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => ResNetFactory.Create("resnet19"));
        Assert.Contains("resnet19", e.Message);
        foreach (var name in ResNetFactory.Architectures) Assert.Contains(name, e.Message);
    }

    [Fact]
    public void InvalidOptionsAreRejectedWithReasons()
    {
        var e1 = Assert.Throws<ArgumentException>(() => ResNetFactory.Create("resnet18", replaceStrideWithDilation: [false, true, true]));
        Assert.Contains("basic blocks", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => ResNetFactory.Create("resnet50", replaceStrideWithDilation: [true]));
        Assert.Contains("3 entries", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => new ResNet(new ResNetOptions { Layers = [2, 0, 2, 2] }));
        Assert.Contains("Layers[1]", e3.Message);
        var e4 = Assert.Throws<ArgumentException>(() => new ResNet(new ResNetOptions { Groups = 32, WidthPerGroup = 4 }));
        Assert.Contains("Groups = 1", e4.Message);
    }

    [Fact]
    public void ZeroInitResidualZeroesTheLastNormOfEachBranch()
    {
        using var model = ResNetFactory.Create("resnet50", zeroInitResidual: true);
        var sd = model.state_dict();
        foreach (var (name, t) in sd.Where(p => p.Key.EndsWith("bn3.weight")))
            Assert.Equal(0.0, t.abs().sum().item<float>());
        Assert.True(sd["layer1.0.bn2.weight"].abs().sum().item<float>() > 0);
        Assert.Equal(16, sd.Count(p => p.Key.EndsWith("bn3.weight")));
    }

    [Fact]
    public void ConvolutionsUseTorchvisionKaimingFanOutInitialisation()
    {
        manual_seed(3);
        using var model = ResNetFactory.Create("resnet50");
        // kaiming_normal_(mode="fan_out", relu): std = sqrt(2 / (out_channels * k * k)).
        var w = model.state_dict()["layer3.0.conv2.weight"]; // [256, 256, 3, 3]
        double std = w.std().item<float>();
        Assert.InRange(std / Math.Sqrt(2.0 / (256 * 9)), 0.98, 1.02);
    }

    [Fact]
    public void ArchitectureIsRecognisedFromStateDictShapes()
    {
        foreach (var arch in new[] { "resnet18", "resnet50", "resnet32" })
        {
            using var model = ResNetFactory.Create(arch);
            var shapes = model.state_dict().ToDictionary(p => p.Key, p => p.Value.shape);
            Assert.StartsWith(arch + " (fc: " + (arch == "resnet32" ? 10 : 1000) + " classes)", ResNetArchitecture.Describe(shapes));
            Assert.Equal(arch, ResNetArchitecture.NameOf(model.Options));
        }
        using var frozen = ResNetFactory.Create("resnext50_32x4d", numClasses: 0, norm: NormKind.FrozenBatchNorm);
        Assert.Equal("resnext50_32x4d (no fc)", ResNetArchitecture.Describe(frozen.state_dict().ToDictionary(p => p.Key, p => p.Value.shape)));
    }
}
