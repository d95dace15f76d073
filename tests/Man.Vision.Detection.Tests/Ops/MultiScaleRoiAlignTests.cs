using Newtonsoft.Json.Linq;
using Man.Vision.Detection.Models;
using Man.Vision.Detection.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Ops;

public sealed class MultiScaleRoiAlignTests
{
    [Fact]
    public void LevelsScalesAndPooledFeaturesEqualTorchvision()
    {
        using var scope = NewDisposeScope();
        var fx = Fixture.Load("multiscale_roi_align.json");
        var features = fx["features"]!.Children<JProperty>().ToDictionary(p => p.Name, p => Fixture.Tensor(p.Value));
        var boxes = fx["boxes"]!.Children().Select(Fixture.Tensor).ToList();
        var sizes = fx["image_sizes"]!.Children().Select(s => new ImageSize(s[0]!.Value<long>(), s[1]!.Value<long>())).ToList();
        var pool = new MultiScaleRoiAlign(["0", "1", "2", "3"], 7, 2);

        var (scales, mapper) = pool.SetupScales(new[] { "0", "1", "2", "3" }.Select(k => features[k]).ToList(), sizes);
        Assert.Equal(fx["scales"]!.Children().Select(s => s.Value<double>()), scales);
        Assert.Equal((2, 5), (mapper.MinLevel, mapper.MaxLevel));
        Assert.Equal(Fixture.Longs(fx["levels"]!), mapper.Map(boxes).data<long>().ToArray());

        Tensor pooled = pool.Forward(features, boxes, sizes);
        Fixture.AssertClose(Fixture.Tensor(fx["output"]!), pooled, 1e-5, "MultiScaleRoIAlign");
    }

    [Theory]
    [InlineData(224, 4)]
    [InlineData(223, 3)]
    [InlineData(112, 3)]
    [InlineData(111, 2)]
    [InlineData(448, 5)]
    [InlineData(10, 2)]
    [InlineData(2000, 5)]
    public void LevelMapperFollowsTheFpnFormula(float side, long level)
    {
        using var scope = NewDisposeScope();
        var mapper = new LevelMapper(2, 5);
        Tensor box = torch.tensor(new[] { 0f, 0f, side, side }, [1, 4]);
        Assert.Equal(level - 2, mapper.Map([box]).item<long>());
    }

    [Fact]
    public void AMissingFeatureMapIsNamed()
    {
        using var scope = NewDisposeScope();
        var pool = new MultiScaleRoiAlign(["0", "1"]);
        var ex = Assert.Throws<ArgumentException>(() => pool.Forward(new Dictionary<string, Tensor> { ["0"] = torch.rand(1, 1, 8, 8) },
            [torch.zeros(0, 4)], [new ImageSize(32, 32)]));
        Assert.Contains("'1'", ex.Message);
    }
}
