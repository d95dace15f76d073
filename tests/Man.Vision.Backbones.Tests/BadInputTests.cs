using Man.Vision.Backbones.ResNets;
using Man.Vision.Backbones.Weights;
using TorchSharp;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace Man.Vision.Backbones.Tests;

public sealed class BadInputTests(ITestOutputHelper output) : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("mvb-bad-").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    private WeightsFileException ReadFails(string path, params string[] fragments)
    {
        using var model = ResNetFactory.Create("resnet18");
        var e = Assert.Throws<WeightsFileException>(() => WeightLoader.Load(model, path));
        output.WriteLine(e.Message);
        Assert.Contains(path, e.Message);
        foreach (var f in fragments) Assert.Contains(f, e.Message);
        return e;
    }

    private string Truncated(string source, double fraction)
    {
        var bytes = File.ReadAllBytes(source);
        string path = Path.Combine(dir, "truncated" + Path.GetExtension(source));
        File.WriteAllBytes(path, bytes.AsSpan(0, (int)(bytes.Length * fraction)).ToArray());
        return path;
    }

    [Fact]
    public void TruncatedPthIsReported() =>
        ReadFails(Truncated(ReferenceFixtures.File("resnet18.pth"), 0.6), "damaged or truncated", "again");

    [Fact]
    public void TruncatedSafetensorsIsReported() =>
        ReadFails(Truncated(ReferenceFixtures.File("resnet18.safetensors"), 0.6), "truncated", "holds only");

    [Fact]
    public void MalformedSafetensorsHeadersAreReported()
    {
        string Write(string name, string header, int dataBytes)
        {
            var json = System.Text.Encoding.UTF8.GetBytes(header);
            var bytes = new byte[8 + json.Length + dataBytes];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
            json.CopyTo(bytes, 8);
            string path = Path.Combine(dir, name + ".safetensors");
            File.WriteAllBytes(path, bytes);
            return path;
        }
        ReadFails(Write("unclosed", """{"conv1.weight": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]""", 8), "not valid JSON", "export it again");
        ReadFails(Write("number", """{"conv1.weight": 5}""", 8), "tensor 'conv1.weight'", "needs dtype (a string), shape (integers) and data_offsets");
        ReadFails(Write("huge", """{"conv1.weight": {"dtype": "F32", "shape": [99999999999999999999], "data_offsets": [0, 8]}}""", 8), "needs dtype (a string), shape (integers) and data_offsets");
        ReadFails(Write("offsets", """{"conv1.weight": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}""", 8), "needs dtype (a string), shape (integers) and data_offsets");
        ReadFails(Write("size", """{"conv1.weight": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}""", 8), "offsets [0, 4]", "(8 bytes)");
        ReadFails(Write("short", """{"conv1.weight": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}""", 8), "ends at byte 16", "holds only 8 data bytes");
    }

    [Fact]
    public void RandomBytesAreNotAWeightsFile()
    {
        var bytes = new byte[4096];
        new Random(3).NextBytes(bytes);
        bytes[0] = 0x13; // not a pickle opcode
        string path = Path.Combine(dir, "random.pth");
        File.WriteAllBytes(path, bytes);
        ReadFails(path, "not a recognised weights file", "starts with bytes 13", "torch.save", ".safetensors");
    }

    [Fact]
    public void LegacyPthSaysHowToConvert() =>
        ReadFails(ReferenceFixtures.File("cifar_resnet32_legacy.pth"), "legacy serialisation", "torch.save(torch.load('IN', map_location='cpu'), 'OUT.pth')");

    [Fact]
    public void PickledWholeModelSaysToSaveTheStateDict() =>
        ReadFails(ReferenceFixtures.File("whole_model.pth"), "pickled whole model", "torch.save(model.state_dict(), 'OUT.pth')");

    [Fact]
    public void EmptyMissingAndDirectoryPathsAreReported()
    {
        string empty = Path.Combine(dir, "empty.pth");
        File.WriteAllBytes(empty, []);
        ReadFails(empty, "is empty");
        ReadFails(Path.Combine(dir, "nope.pth"), "does not exist");
        ReadFails(dir, "is a directory");
    }

    [Fact]
    public void WrongArchitectureNamesBothArchitectures()
    {
        using var model = ResNetFactory.Create("resnet18");
        var e = Assert.Throws<WeightLoadException>(() => WeightLoader.Load(model, ReferenceFixtures.File("resnet50.pth"), WeightLoadOptions.StrictAll));
        output.WriteLine(e.Message);
        Assert.Contains("the file looks like resnet50 (fc: 1000 classes); the model is resnet18 (fc: 1000 classes)", e.Message);
        Assert.Contains("layer1.0.conv1.weight: model [64, 64, 3, 3], file [64, 64, 1, 1]", e.Message);
        Assert.True(e.Report.Unexpected.Count > 0 && e.Report.ShapeMismatches.Count > 0);
        // Strict loading changes nothing.
        using var fresh = ResNetFactory.Create("resnet18");
        Assert.True(e.Report.HasProblems);
    }

    [Fact]
    public void NothingMatchingIsAnErrorEvenWhenNotStrictAndHintsAtThePrefix()
    {
        using var scope = NewDisposeScope();
        using var source = ResNetFactory.Create("resnet18");
        string path = Path.Combine(dir, "prefixed.pth");
        WeightsWriter.Save(StateDictOrder.Of(source).Select(p => ("encoder." + p.Name, p.Tensor)), path);
        using var model = ResNetFactory.Create("resnet18");
        var e = Assert.Throws<WeightLoadException>(() => WeightLoader.Load(model, path));
        output.WriteLine(e.Message);
        Assert.Contains("nothing was loaded", e.Message);
        Assert.Contains("SourcePrefix = \"encoder.\"", e.Message);
        Assert.Equal(122, WeightLoader.Load(model, path, new WeightLoadOptions { SourcePrefix = "encoder.", Strict = true }).Loaded.Count);
    }

    [Fact]
    public void Float16WeightsAreConvertedWithANoteOrRefused()
    {
        using var scope = NewDisposeScope();
        manual_seed(13);
        using var source = ResNetFactory.Create("resnet18");
        string path = Path.Combine(dir, "half.pth");
        WeightsWriter.Save(StateDictOrder.Of(source).Select(p => (p.Name, p.Tensor.is_floating_point() ? p.Tensor.to_type(ScalarType.Float16) : p.Tensor)), path);
        Assert.All(WeightsInspector.Inspect(path).Tensors.Where(t => !t.Name.EndsWith("num_batches_tracked")), t => Assert.Equal(ScalarType.Float16, t.DType));

        using var model = ResNetFactory.Create("resnet18");
        var report = WeightLoader.Load(model, path, WeightLoadOptions.StrictAll);
        output.WriteLine(report.ToText());
        Assert.Equal(102, report.DTypeConversions.Count); // every float tensor; the 20 int64 counters are unchanged
        Assert.Contains(report.Notes, n => n.Contains("from float16 to the model's float32") && n.Contains("reduced precision"));
        var expected = source.state_dict()["layer2.0.conv1.weight"].to_type(ScalarType.Float16).to_type(ScalarType.Float32);
        Assert.True(TensorAssert.Identical(expected, model.state_dict()["layer2.0.conv1.weight"]));

        var e = Assert.Throws<WeightLoadException>(() => WeightLoader.Load(model, path, new WeightLoadOptions { AllowDTypeConversion = false }));
        Assert.Contains("float16 vs float32", e.Message);
        Assert.Contains("AllowDTypeConversion = true", e.Message);
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        using var model = ResNetFactory.Create("resnet18");
        var e = Assert.Throws<ArgumentException>(() => WeightLoader.Load(model, ReferenceFixtures.File("resnet18.pth"), new WeightLoadOptions { TargetPrefix = "backbone" }));
        Assert.Contains("must end with '.'", e.Message);
    }
}
