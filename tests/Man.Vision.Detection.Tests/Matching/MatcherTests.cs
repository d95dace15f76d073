using Newtonsoft.Json.Linq;
using Man.Vision.Detection.Matching;
using Man.Vision.Detection.Ops;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Matching;

public sealed class MatcherTests
{
    [Fact]
    public void MatchesEqualTorchvision()
    {
        using var scope = NewDisposeScope();
        var fx = Fixture.Load("matcher.json");
        Tensor iou = BoxOps.Iou(Fixture.Tensor(fx["gt"]!), Fixture.Tensor(fx["proposals"]!));
        Fixture.AssertClose(Fixture.Tensor(fx["iou"]!), iou, 1e-6, "box_iou");
        foreach (var c in fx["cases"]!.Children())
        {
            var m = new Matcher(c["high"]!.Value<double>(), c["low"]!.Value<double>(), c["allow_low_quality"]!.Value<bool>());
            Assert.Equal(Fixture.Longs(c["matches"]!), m.Match(iou).data<long>().ToArray());
        }
    }

    [Fact]
    public void HandWorkedCase()
    {
        using var scope = NewDisposeScope();
        // 2 gts × 4 predictions.
        Tensor q = tensor(new float[] { 0.9f, 0.5f, 0.1f, 0.2f, 0.3f, 0.6f, 0.2f, 0.25f }, [2, 4]);
        Assert.Equal(new long[] { 0, -2, -1, -1 }, new Matcher(0.7, 0.3, false).Match(q).data<long>().ToArray());
        // Low-quality: gt 1's best prediction (column 1, 0.6) keeps its match to gt 1.
        Assert.Equal(new long[] { 0, 1, -1, -1 }, new Matcher(0.7, 0.3, true).Match(q).data<long>().ToArray());
        Assert.Equal(Matcher.BelowLowThreshold, -1);
        Assert.Equal(Matcher.BetweenThresholds, -2);
    }

    [Fact]
    public void EmptyGroundTruthIsAClearError()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => new Matcher(0.5, 0.5, false).Match(zeros(0, 5)));
        Assert.Contains("No ground-truth", ex.Message);
    }

    [Fact]
    public void SamplerRespectsTheFractionAndIgnoresMinusOne()
    {
        using var scope = NewDisposeScope();
        var labels = cat([full(10, 1L), full(100, 0L), full(30, -1L), full(5, 3L)]);
        var sampler = new BalancedPositiveNegativeSampler(32, 0.25, new Generator(5));
        var (pos, neg) = sampler.Sample([labels]);
        Assert.Equal(8, pos[0].sum().item<long>());
        Assert.Equal(24, neg[0].sum().item<long>());
        Assert.True(labels[pos[0]].ge(1).all().item<bool>());
        Assert.True(labels[neg[0]].eq(0).all().item<bool>());
        // Few positives: all are taken, negatives fill the batch.
        var (pos2, neg2) = new BalancedPositiveNegativeSampler(256, 0.5).Sample([labels]);
        Assert.Equal(15, pos2[0].sum().item<long>());
        Assert.Equal(100, neg2[0].sum().item<long>());
    }
}
