using Newtonsoft.Json.Linq;
using Man.Vision.Detection.Anchors;
using Man.Vision.Detection.Models;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Anchors;

public sealed class AnchorGeneratorTests
{
    [Fact]
    public void EqualsTorchvisionAnchors()
    {
        using var scope = NewDisposeScope();
        var fx = Fixture.Load("anchors.json");
        int n = 0;
        foreach (var c in fx["cases"]!.Children())
        {
            var gen = c["sizes"] is JToken sizes
                ? new AnchorGenerator(
                    sizes.Children().Select(l => (IReadOnlyList<double>)l.Children().Select(x => x.Value<double>()).ToArray()).ToArray(),
                    c["ratios"]!.Children().Select(l => (IReadOnlyList<double>)l.Children().Select(x => x.Value<double>()).ToArray()).ToArray())
                : AnchorGenerator.FpnDefault();
            var hw = c["batch_hw"]!;
            var feats = c["feature_hw"]!.Children().Select(f => new ImageSize(f[0]!.Value<long>(), f[1]!.Value<long>())).ToList();
            Tensor anchors = gen.GridAnchors(new ImageSize(hw[0]!.Value<long>(), hw[1]!.Value<long>()), feats, ScalarType.Float32, CPU);
            Fixture.AssertClose(Fixture.Tensor(c["anchors"]!), anchors, 1e-5, $"anchors {hw.ToString(Newtonsoft.Json.Formatting.None)}");
            n++;
        }
        Assert.Equal(3, n);
    }

    [Fact]
    public void BaseAnchorsAreRoundedHalfSizes()
    {
        var gen = AnchorGenerator.FpnDefault();
        // ratio 0.5: h = sqrt(.5)·32 = 22.63, w = 45.25 → round(±11.31), round(±22.63)
        Assert.Equal(new float[] { -23, -11, 23, 11, -16, -16, 16, 16, -11, -23, 11, 23 }, gen.CellAnchors[0]);
        Assert.Equal(new[] { 3, 3, 3, 3, 3 }, gen.NumAnchorsPerLocation);
    }

    [Fact]
    public void MismatchedLevelsAreRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new AnchorGenerator([[32], [64]], [[1.0]]));
        Assert.Contains("2 levels of sizes but 1", ex.Message);
    }
}
