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
        foreach (var c in fx.GetProperty("cases").EnumerateArray())
        {
            var gen = c.TryGetProperty("sizes", out var sizes)
                ? new AnchorGenerator(
                    sizes.EnumerateArray().Select(l => (IReadOnlyList<double>)l.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray(),
                    c.GetProperty("ratios").EnumerateArray().Select(l => (IReadOnlyList<double>)l.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray())
                : AnchorGenerator.FpnDefault();
            var hw = c.GetProperty("batch_hw");
            var feats = c.GetProperty("feature_hw").EnumerateArray().Select(f => new ImageSize(f[0].GetInt64(), f[1].GetInt64())).ToList();
            Tensor anchors = gen.GridAnchors(new ImageSize(hw[0].GetInt64(), hw[1].GetInt64()), feats, ScalarType.Float32, CPU);
            Fixture.AssertClose(Fixture.Tensor(c.GetProperty("anchors")), anchors, 1e-5, $"anchors {hw}");
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
