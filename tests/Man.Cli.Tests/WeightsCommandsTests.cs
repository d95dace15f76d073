using Man.Vision.Backbones.Weights;
using Newtonsoft.Json.Linq;
using static TorchSharp.torch;

namespace Man.Cli.Tests;

public sealed class WeightsCommandsTests
{
    private static readonly (string Name, long[] Shape, ScalarType DType)[] Layout =
    [
        ("conv1.weight", [4, 3, 3, 3], ScalarType.Float32),
        ("bn1.running_mean", [4], ScalarType.Float32),
        ("bn1.num_batches_tracked", [], ScalarType.Int64),
        ("fc.weight", [2, 4], ScalarType.Float16),
    ];

    private static void WriteSmall(string path)
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        var tensors = Layout.Select(t => (t.Name, t.DType == ScalarType.Int64 ? tensor(5L) : randn(t.Shape).to_type(t.DType))).ToList();
        WeightsWriter.Save(tensors, path);
    }

    [Theory]
    [InlineData("small.pth")]
    [InlineData("small.safetensors")]
    public void Inspect_lists_every_tensor_with_shape_and_dtype(string file)
    {
        string dir = DataTestCli.TempDir("weights");
        try
        {
            string path = Path.Combine(dir, file), json = Path.Combine(dir, "w.json");
            WriteSmall(path);
            var (code, output, err) = DataTestCli.Run("weights", "inspect", path, "--json", json);
            Assert.True(code == 0, err);
            Assert.Contains("4 tensors, 121 elements", output); // 108 + 4 + 1 + 8
            foreach (var (name, _, _) in Layout) Assert.Contains(name, output);
            Assert.Matches(@"fc\.weight\s+\[2, 4\]\s+float16", output);
            Assert.Matches(@"bn1\.num_batches_tracked\s+\[\]\s+int64", output);

            var doc = JObject.Parse(File.ReadAllText(json));
            Assert.Equal(file.EndsWith(".pth", StringComparison.Ordinal) ? "PyTorchZip" : "Safetensors", (string)doc["format"]!);
            Assert.Equal(121, (long)doc["total_elements"]!);
            var listed = doc["tensors"]!.ToDictionary(t => (string)t["name"]!, t => (t["shape"]!.Select(v => (long)v).ToArray(), (string)t["dtype"]!));
            Assert.Equal(Layout.Length, listed.Count);
            foreach (var (name, shape, dtype) in Layout)
            {
                Assert.Equal(shape, listed[name].Item1);
                Assert.Equal(dtype switch { ScalarType.Float16 => "float16", ScalarType.Int64 => "int64", _ => "float32" }, listed[name].Item2);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Convert_pth_to_safetensors_and_back_keeps_every_value()
    {
        string dir = DataTestCli.TempDir("convert");
        try
        {
            string pth = Path.Combine(dir, "a.pth"), st = Path.Combine(dir, "b.safetensors"), back = Path.Combine(dir, "c.pth");
            WriteSmall(pth);
            var (code, output, err) = DataTestCli.Run("weights", "convert", pth, st);
            Assert.True(code == 0, err);
            Assert.Contains("4 tensors, 121 elements, read back and identical", output);
            Assert.Equal(0, DataTestCli.Run("weights", "convert", st, back).Code);

            using var a = WeightsReader.Read(pth);
            using var b = WeightsReader.Read(st);
            using var c = WeightsReader.Read(back);
            Assert.Equal(WeightsFormat.Safetensors, b.Format);
            foreach (var (name, shape, dtype) in Layout)
            {
                Assert.Equal(dtype, b.Tensors[name].dtype);
                Assert.Equal(shape, c.Tensors[name].shape);
                Assert.Equal(a.Tensors[name].bytes.ToArray(), b.Tensors[name].bytes.ToArray());
                Assert.Equal(a.Tensors[name].bytes.ToArray(), c.Tensors[name].bytes.ToArray());
            }

            var (again, _, againErr) = DataTestCli.Run("weights", "convert", pth, st);
            Assert.Equal(2, again);
            Assert.Contains("--force", againErr);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Inspect_of_a_missing_or_truncated_file_fails_naming_it()
    {
        string dir = DataTestCli.TempDir("weights-bad");
        try
        {
            string missing = Path.Combine(dir, "none.pth");
            var (code, _, err) = DataTestCli.Run("weights", "inspect", missing);
            Assert.Equal(2, code);
            Assert.Contains(DataTestCli.Squeeze($"'{missing}': does not exist"), DataTestCli.Squeeze(err));

            string full = Path.Combine(dir, "full.pth"), cut = Path.Combine(dir, "cut.pth");
            WriteSmall(full);
            var bytes = File.ReadAllBytes(full);
            File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
            var (cutCode, _, cutErr) = DataTestCli.Run("weights", "inspect", cut);
            Assert.Equal(2, cutCode);
            Assert.Contains(DataTestCli.Squeeze($"'{cut}'"), DataTestCli.Squeeze(cutErr));
            Assert.Contains("truncated", cutErr);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
