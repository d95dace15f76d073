using Newtonsoft.Json.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests;

/// <summary>Reads the JSON fixtures written by fixtures/make_fixtures.py (torchvision 0.14).</summary>
internal static class Fixture
{
    public static JToken Load(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "fixtures", name);
        if (!File.Exists(path)) throw new FileNotFoundException($"Fixture {name} is missing; run fixtures/make_fixtures.py.", path);
        return JToken.Parse(File.ReadAllText(path));
    }

    /// <summary>A tensor stored as {"shape", "dtype", "b64"}.</summary>
    public static Tensor Tensor(JToken e)
    {
        long[] shape = e["shape"]!.Children().Select(x => x.Value<long>()).ToArray();
        byte[] raw = Convert.FromBase64String(e["b64"]!.Value<string>()!);
        string dtype = e["dtype"]!.Value<string>()!;
        if (dtype == "float32")
        {
            var data = new float[raw.Length / 4];
            Buffer.BlockCopy(raw, 0, data, 0, raw.Length);
            return torch.tensor(data, shape);
        }
        var longs = new long[raw.Length / 8];
        Buffer.BlockCopy(raw, 0, longs, 0, raw.Length);
        return torch.tensor(longs, shape);
    }

    public static long[] Longs(JToken e) => e.Children().Select(x => x.Value<long>()).ToArray();

    /// <summary>Largest absolute difference; asserts equal shapes.</summary>
    public static double MaxAbsDiff(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        if (expected.numel() == 0) return 0;
        return (actual.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs().max().item<double>();
    }

    public static void AssertClose(Tensor expected, Tensor actual, double tol, string what = "")
    {
        double d = MaxAbsDiff(actual, expected);
        Assert.True(d <= tol, $"{what}: max |diff| = {d:E3} > {tol:E1}");
    }
}
