using Man.Vision.Segmentation.Heads;
using Man.Vision.Segmentation.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Tests.Heads;

public sealed class HeadTests
{
    [Fact]
    public void FcnHead_state_equals_torchvision_FCNHead()
    {
        using var head = new FcnHead(1024, 21);
        Assert.Equal(Sorted(Fixtures.StateNames("FCNHead_1024_21")), Sorted(Fixtures.StateOf(head)));
        Assert.Equal(256, head.HiddenChannels);
    }

    [Fact]
    public void DeepLabHead_state_equals_torchvision_DeepLabHead()
    {
        using var head = new DeepLabHead(2048, 21);
        var expected = Fixtures.StateNames("DeepLabHead_2048_21");
        // ASPP: 5 branches × (conv + 5 BatchNorm entries) + projection 6 = 36; conv 1 + BatchNorm 5 + classifier 2 = 44.
        Assert.Equal(44, expected.Count);
        Assert.Equal(Sorted(expected), Sorted(Fixtures.StateOf(head)));
        Assert.Equal([12, 24, 36], head.AtrousRates);
    }

    [Theory]
    [InlineData(8, new[] { 12, 24, 36 })]
    [InlineData(16, new[] { 6, 12, 18 })]
    [InlineData(32, new[] { 3, 6, 9 })]
    public void Aspp_rates_follow_the_output_stride(int stride, int[] rates)
    {
        Assert.Equal(rates, DeepLabHead.RatesForOutputStride(stride));
        Assert.Throws<ArgumentOutOfRangeException>(() => DeepLabHead.RatesForOutputStride(4));
    }

    [Fact]
    public void Narrow_DeepLabHead_matches_torchvision_numerically()
    {
        // torchvision's ASPP(8, [2, 3, 4], out_channels=16) → conv3×3 → BN → ReLU → conv1×1(3), random weights and
        // BatchNorm statistics, eval mode, input [2, 8, 13, 17] (heads_numeric.json).
        var fixture = Fixtures.Json("heads_numeric.json");
        using var head = new DeepLabHead(8, 3, [2, 3, 4], channels: 16);
        AssertMatches(head, fixture["deeplab"]!, Fixtures.ToTensor(fixture["input"]!));
    }

    [Fact]
    public void FcnHead_matches_torchvision_numerically()
    {
        var fixture = Fixtures.Json("heads_numeric.json");
        using var head = new FcnHead(8, 3);
        AssertMatches(head, fixture["fcn"]!, Fixtures.ToTensor(fixture["input"]!));
    }

    [Theory]
    [InlineData(13, 17)]
    [InlineData(1, 1)]
    [InlineData(7, 32)]
    public void Heads_keep_odd_feature_sizes(int h, int w)
    {
        using var scope = NewDisposeScope();
        using var deeplab = new DeepLabHead(64, 5, DeepLabHead.RatesForOutputStride(16));
        using var fcn = new FcnHead(64, 5);
        using var aspp = new Aspp(64, [6, 12, 18], 32);
        deeplab.eval();
        fcn.eval();
        aspp.eval();
        Tensor x = randn(2, 64, h, w);
        Assert.Equal(new long[] { 2, 32, h, w }, aspp.forward(x).shape);
        Assert.Equal(new long[] { 2, 5, h, w }, deeplab.forward(x).shape);
        Assert.Equal(new long[] { 2, 5, h, w }, fcn.forward(x).shape);
    }

    [Fact]
    public void Heads_reject_bad_sizes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FcnHead(3, 5)); // 3/4 = 0 hidden channels
        Assert.Throws<ArgumentOutOfRangeException>(() => new FcnHead(64, 0));
        Assert.Throws<ArgumentException>(() => new Aspp(64, []));
        Assert.Throws<ArgumentException>(() => new Aspp(64, [6, 0]));
    }

    private static List<(string Key, string Shape)> Sorted(IEnumerable<(string Key, string Shape)> entries) =>
        entries.OrderBy(e => e.Key, StringComparer.Ordinal).ToList();

    private static void AssertMatches(nn.Module<Tensor, Tensor> head, Newtonsoft.Json.Linq.JToken fixture, Tensor input)
    {
        using var scope = NewDisposeScope();
        var state = head.state_dict();
        var stored = (Newtonsoft.Json.Linq.JObject)fixture["state"]!;
        int loaded = 0;
        using (no_grad())
        {
            foreach (var (key, value) in stored)
            {
                Assert.True(state.ContainsKey(key), $"torchvision key {key} missing");
                state[key].copy_(Fixtures.ToTensor(value!));
                loaded++;
            }
        }
        Assert.Equal(state.Count(kv => kv.Value.dtype == ScalarType.Float32), loaded);
        head.eval();
        Tensor expected = Fixtures.ToTensor(fixture["output"]!);
        using (no_grad())
        {
            Tensor actual = head.forward(input);
            Assert.Equal(expected.shape, actual.shape);
            double maxDiff = (actual - expected).abs().max().item<float>();
            Assert.True(maxDiff < 1e-4, $"max |difference| {maxDiff}");
        }
    }
}
