using System.Security.Cryptography;
using Newtonsoft.Json.Linq;
using Man.Vision.Backbones.Norm;
using Man.Vision.Backbones.ResNets;
using Man.Vision.Backbones.Weights;
using TorchSharp;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace Man.Vision.Backbones.Tests;

public sealed class WeightsRoundTripTests(ITestOutputHelper output) : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("mvb-weights-").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    private static string Sha256(Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        return Convert.ToHexString(SHA256.HashData(c.bytes)).ToLowerInvariant();
    }

    [Theory]
    [InlineData("resnet18", "resnet18", "pth")]
    [InlineData("resnet32", "cifar_resnet32", "pth")]
    [InlineData("resnet18", "resnet18", "safetensors")]
    public void WeightsSavedByUsLoadInPyTorchWithIdenticalValues(string arch, string pythonArch, string extension)
    {
        manual_seed(21);
        using var model = ResNetFactory.Create(arch);
        TestModels.RandomizeBatchNorm(model, 9);
        using (no_grad()) model.state_dict()["bn1.num_batches_tracked"].fill_(12);
        string path = Path.Combine(dir, $"{arch}.{extension}");
        WeightsWriter.Save(model, path);

        // Python: torch.load (numpy reader for safetensors), strict load_state_dict into the reference architecture,
        // then a SHA-256 of every tensor's raw bytes.
        var lines = ReferenceFixtures.RunScript("check", path, "--arch", pythonArch)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JToken.Parse(l))
            .ToList();
        var sd = model.state_dict();
        Assert.Equal(sd.Keys.ToList(), lines.Select(l => l["name"]!.Value<string>()!).ToList()); // same names, same order
        foreach (var l in lines)
        {
            string name = l["name"]!.Value<string>()!;
            var t = sd[name];
            Assert.Equal(TestModels.DTypeText(t.dtype), l["dtype"]!.Value<string>());
            Assert.Equal(t.shape, l["shape"]!.Children().Select(e => e.Value<long>()).ToArray());
            Assert.True(Sha256(t) == l["sha256"]!.Value<string>(), $"{name}: PyTorch reads different bytes");
        }
        output.WriteLine($"{lines.Count} tensors identical in PyTorch ({new FileInfo(path).Length:N0} bytes)");
    }

    [Theory]
    [InlineData("pth")]
    [InlineData("safetensors")]
    public void OurOwnCheckpointsLoadBackBitForBit(string extension)
    {
        manual_seed(5);
        using var a = ResNetFactory.Create("resnet50", numClasses: 7);
        TestModels.RandomizeBatchNorm(a, 1);
        string path = Path.Combine(dir, "ours." + extension);
        WeightsWriter.Save(a, path);
        manual_seed(6);
        using var b = ResNetFactory.Create("resnet50", numClasses: 7);
        var report = WeightLoader.Load(b, path, WeightLoadOptions.StrictAll);
        Assert.Equal(a.state_dict().Count, report.Loaded.Count);
        var sb = b.state_dict();
        foreach (var (name, t) in a.state_dict())
            Assert.True(TensorAssert.Identical(t, sb[name]), name);
    }

    [Fact]
    public void DeflatedZipFilesFromPyBridgeSaveLoadBitForBit()
    {
        // PyBridge's own save_py deflates the records (torch.save stores them); every byte must still arrive.
        manual_seed(17);
        using var a = ResNetFactory.Create("resnet18");
        string path = Path.Combine(dir, "pybridge.pth");
        TorchSharp.PyBridge.PyBridgeModuleExtensions.save_py(a, path);
        using (var zip = System.IO.Compression.ZipFile.OpenRead(path))
            Assert.Contains(zip.Entries, e => e.CompressedLength < e.Length);
        using var b = ResNetFactory.Create("resnet18");
        var report = WeightLoader.Load(b, path, WeightLoadOptions.StrictAll);
        Assert.False(report.HasProblems);
        var sb = b.state_dict();
        foreach (var (name, t) in a.state_dict())
            Assert.True(TensorAssert.Identical(t, sb[name]), name);
    }

    [Fact]
    public void ACheckpointOfAFrozenNormModelLoadsIntoABatchNormModel()
    {
        manual_seed(5);
        using var frozen = ResNetFactory.Create("resnet18", norm: NormKind.FrozenBatchNorm);
        TestModels.RandomizeBatchNorm(frozen, 2);
        string path = Path.Combine(dir, "frozen.pth");
        WeightsWriter.Save(frozen, path);
        using var bn = ResNetFactory.Create("resnet18");
        var report = WeightLoader.Load(bn, path, WeightLoadOptions.StrictAll); // counters absent from the file are not "missing"
        Assert.False(report.HasProblems);
        Assert.Equal(frozen.state_dict().Count, report.Loaded.Count);
        Assert.True(TensorAssert.Identical(frozen.state_dict()["layer3.1.bn2.running_var"], bn.state_dict()["layer3.1.bn2.running_var"]));
    }

    [Theory]
    [InlineData("cifar_resnet32_nested.pth", "took the checkpoint entry 'state_dict' (other entries: arch, epoch)", "stripped the DataParallel prefix 'module.'")]
    [InlineData("cifar_resnet32_model_key.pth", "took the checkpoint entry 'model' (other entries: optimizer)", null)]
    public void NestedCheckpointsAreUnwrapped(string file, string note1, string? note2)
    {
        using var scope = NewDisposeScope();
        using var plain = WeightsReader.Read(ReferenceFixtures.File("cifar_resnet32.pth"));
        using var nested = WeightsReader.Read(ReferenceFixtures.File(file));
        output.WriteLine(string.Join("\n", nested.Notes));
        Assert.Contains(note1, nested.Notes);
        if (note2 is not null) Assert.Contains(nested.Notes, n => n.StartsWith(note2));
        Assert.Equal(plain.Names, nested.Names);
        foreach (var name in plain.Names) Assert.True(TensorAssert.Identical(plain.Tensors[name], nested.Tensors[name]), name);
        using var model = ResNetFactory.Create("resnet32");
        var report = WeightLoader.Load(model, ReferenceFixtures.File(file), WeightLoadOptions.StrictAll);
        Assert.Equal(200, report.Loaded.Count);
        Assert.Contains(note1, report.Notes);
    }

    [Fact]
    public void BackboneOnlyLoadsEverythingButTheClassifier()
    {
        using var model = ResNetFactory.Create("resnet18", numClasses: 10);
        string file = ReferenceFixtures.File("resnet18.pth");
        var strict = Assert.Throws<WeightLoadException>(() => WeightLoader.Load(model, file, WeightLoadOptions.StrictAll));
        Assert.Contains("fc.weight: model [10, 512], file [1000, 512]", strict.Message);
        var report = WeightLoader.LoadBackbone(model, file, strict: true);
        Assert.Equal(120, report.Loaded.Count);
        Assert.Equal(["fc.bias", "fc.weight"], report.Skipped);
        Assert.False(report.HasProblems);
        // Non-strict without exclusion: the classifier is reported as a shape mismatch and left alone.
        var loose = WeightLoader.Load(model, file);
        Assert.Equal(2, loose.ShapeMismatches.Count);
        Assert.Equal(120, loose.Loaded.Count);
    }

    [Fact]
    public void PrefixesMapAClassifierCheckpointIntoAContainerModelAndBack()
    {
        using var scope = NewDisposeScope();
        // A container that holds the ResNet as "backbone.body" (torchvision's detection naming).
        using var container = new Detectorish(ResNetFactory.Create("resnet18", numClasses: 0));
        Assert.Contains("backbone.body.layer4.1.bn2.running_var", container.state_dict().Keys);
        var report = WeightLoader.Load(container, ReferenceFixtures.File("resnet18.pth"),
            new WeightLoadOptions { TargetPrefix = "backbone.body.", ExcludePrefixes = ["fc."], Strict = true });
        Assert.Equal(120, report.Loaded.Count);
        Assert.Equal(120, report.ModelTensors);
        string path = Path.Combine(dir, "container.pth");
        WeightsWriter.Save(container, path);
        using var again = ResNetFactory.Create("resnet18", numClasses: 0);
        var back = WeightLoader.Load(again, path, new WeightLoadOptions { SourcePrefix = "backbone.body.", Strict = true });
        Assert.Equal(120, back.Loaded.Count);
        Assert.Equal(["head.bias", "head.weight"], back.Skipped);
    }

    private sealed class BackboneWrapper : nn.Module<Tensor, Tensor>
    {
        private readonly ResNet body;

        public BackboneWrapper(ResNet body) : base(nameof(BackboneWrapper))
        {
            this.body = body;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => body.forward(x);
    }

    private sealed class Detectorish : nn.Module<Tensor, Tensor>
    {
        private readonly BackboneWrapper backbone;
        private readonly TorchSharp.Modules.Linear head;

        public Detectorish(ResNet body) : base(nameof(Detectorish))
        {
            backbone = new BackboneWrapper(body);
            head = nn.Linear(512, 3);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => head.forward(backbone.forward(x).mean([2, 3]));
    }

    [Fact]
    public void ReportPrintsATable()
    {
        using var model = ResNetFactory.Create("resnet18", numClasses: 10);
        var text = WeightLoader.Load(model, ReferenceFixtures.File("resnet18.safetensors")).ToText();
        output.WriteLine(text);
        Assert.Contains("loaded                120", text);
        Assert.Contains("shape mismatch          2", text);
        Assert.Contains("fc.weight: model [10, 512], file [1000, 512]", text);
    }

    [Fact]
    public void InspectorListsNamesShapesAndDTypes()
    {
        var expected = File.ReadAllLines(Path.Combine(ReferenceFixtures.Committed, "resnet50_keys.txt")).Where(l => l.Length > 0).ToList();
        var st = WeightsInspector.Inspect(ReferenceFixtures.File("resnet50.safetensors"));
        Assert.Equal(WeightsFormat.Safetensors, st.Format);
        Assert.Equal(expected, st.Tensors.Select(t => $"{t.Name}\t{TestModels.ShapeText(t.Shape)}\t{TestModels.DTypeText(t.DType)}"));
        Assert.Equal("resnet50 (fc: 1000 classes)", st.Architecture);
        Assert.Equal(25_557_032 + 53_120 + 53, st.TotalElements); // parameters + BN statistics (2 x 26,560) + 53 counters

        var pth = WeightsInspector.Inspect(ReferenceFixtures.File("resnet18.pth"));
        var expected18 = File.ReadAllLines(Path.Combine(ReferenceFixtures.Committed, "resnet18_keys.txt")).Where(l => l.Length > 0);

        Assert.Equal(expected18.Order(), pth.Tensors.Select(t => $"{t.Name}\t{TestModels.ShapeText(t.Shape)}\t{TestModels.DTypeText(t.DType)}").Order());
        string text = pth.ToText();
        output.WriteLine(text);
        Assert.Contains("looks like resnet18 (fc: 1000 classes)", text);
        Assert.Matches(@"conv1\.weight\s+\[64, 3, 7, 7\]\s+float32", text);

        var tiny = WeightsInspector.Inspect(ReferenceFixtures.File("resnext_tiny.pth"));
        Assert.Equal("custom ResNet (Bottleneck blocks [1, 1, 1, 1], ImageNet stem of 64 channels, groups 32, width per group 4; fc: 10 classes)", tiny.Architecture);
    }
}
