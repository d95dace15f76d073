using Newtonsoft.Json.Linq;
using Man.Vision.Detection.Ops;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Ops;

public sealed class BoxCoderTests
{
    [Fact]
    public void EncodeAndDecodeEqualTorchvision()
    {
        using var scope = NewDisposeScope();
        var fx = Fixture.Load("box_coder.json");
        Tensor anchors = Fixture.Tensor(fx["anchors"]!);
        Tensor gt = Fixture.Tensor(fx["gt"]!);
        foreach (var c in fx["cases"]!.Children())
        {
            var w = c["weights"]!.Children().Select(x => x.Value<double>()).ToArray();
            var coder = new BoxCoder((w[0], w[1], w[2], w[3]));
            Tensor encoded = coder.Encode([gt], [anchors])[0];
            Fixture.AssertClose(Fixture.Tensor(c["encoded"]!), encoded, 1e-5, $"encode {w[0]}");
            Tensor expected = Fixture.Tensor(c["decoded"]!);
            Tensor decoded = coder.Decode(Fixture.Tensor(c["rel_codes"]!), [anchors]);
            // Decoded coordinates reach ~1e3 (clamped exp): compare relative to their magnitude.
            double rel = ((decoded - expected).abs() / (expected.abs() + 1)).max().item<float>();
            Assert.True(rel < 1e-6, $"decode {w[0]}: max relative diff {rel:E2}");
        }
    }

    [Theory]
    [InlineData(10, 10, 5, 5)]
    [InlineData(1, 1, 1, 1)]
    public void DecodeOfEncodeGivesTheBoxesBack(double wx, double wy, double ww, double wh)
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(11);
        Tensor xy = rand([50, 2], generator: gen) * 300, wh2 = rand([50, 2], generator: gen) * 80 + 2;
        Tensor refs = cat([xy, xy + wh2], 1);
        Tensor xy2 = xy + (rand([50, 2], generator: gen) - 0.5) * 40, wh3 = wh2 * (rand([50, 2], generator: gen) * 3 + 0.2);
        Tensor boxes = cat([xy2, xy2 + wh3], 1);
        var coder = new BoxCoder((wx, wy, ww, wh));
        Tensor back = coder.Decode(coder.EncodeSingle(boxes, refs), [refs]).squeeze(1);
        Assert.True(Fixture.MaxAbsDiff(back, boxes) < 1e-3, "round trip");
    }

    [Fact]
    public void DecodingClampsLargeSizeCodes()
    {
        using var scope = NewDisposeScope();
        var coder = new BoxCoder((1, 1, 1, 1));
        Tensor box = coder.DecodeSingle(tensor(new float[] { 0, 0, 100, 100 }, [1, 4]), tensor(new float[] { 0, 0, 10, 10 }, [1, 4]));
        float side = (box[0, 2] - box[0, 0]).item<float>();
        Assert.Equal(10 * 1000.0 / 16, side, 2);
    }

    [Fact]
    public void DecodingWithoutReferencesGivesAnEmptyBoxTensorOfTheRightShape()
    {
        using var scope = NewDisposeScope();
        var coder = new BoxCoder((10, 10, 5, 5));
        Tensor boxes = coder.Decode(zeros(0, 12), [zeros(0, 4)]);
        Assert.Equal(new long[] { 0, 3, 4 }, boxes.shape);
    }
}
