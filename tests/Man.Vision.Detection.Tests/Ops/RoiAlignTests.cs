using Newtonsoft.Json.Linq;
using Man.Vision.Detection.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Ops;

public sealed class RoiAlignTests
{
    [Fact]
    public void EqualsTorchvisionOnEveryConfiguration()
    {
        using var scope = NewDisposeScope();
        var fx = Fixture.Load("roi_align.json");
        Tensor features = Fixture.Tensor(fx["features"]!);
        Tensor rois = Fixture.Tensor(fx["rois"]!);
        int n = 0;
        foreach (var c in fx["cases"]!.Children())
        {
            double scale = c["spatial_scale"]!.Value<double>();
            bool aligned = c["aligned"]!.Value<bool>();
            int sampling = c["sampling_ratio"]!.Value<int>();
            Tensor expected = Fixture.Tensor(c["output"]!);
            Tensor actual = RoiAlign.Apply(features, rois, c["pooled_h"]!.Value<long>(), c["pooled_w"]!.Value<long>(), scale, sampling, aligned);
            Fixture.AssertClose(expected, actual, 1e-5, $"scale {scale} aligned {aligned} sampling {sampling}");
            n++;
        }
        Assert.Equal(16, n);
    }

    [Fact]
    public void GradientWithRespectToFeaturesEqualsTorchvision()
    {
        using var scope = NewDisposeScope();
        var fx = Fixture.Load("roi_align.json");
        Tensor features = Fixture.Tensor(fx["features"]!).requires_grad_(true);
        Tensor rois = Fixture.Tensor(fx["rois"]!);
        var g = fx["gradient"]!;
        Tensor w = Fixture.Tensor(g["weight"]!);
        Tensor output = RoiAlign.Apply(features, rois, 3, 4, g["spatial_scale"]!.Value<double>(),
            g["sampling_ratio"]!.Value<int>(), g["aligned"]!.Value<bool>());
        (output * w).sum().backward();
        Fixture.AssertClose(Fixture.Tensor(g["grad"]!), features.grad!, 1e-5, "d/dfeatures");
    }

    [Fact]
    public void PerImageBoxListsEqualRoiRows()
    {
        using var scope = NewDisposeScope();
        Tensor features = torch.rand([2, 4, 10, 12], generator: new Generator(3));
        Tensor b0 = torch.tensor(new float[] { 1, 1, 7, 6, 0, 0, 11, 9 }, [2, 4]);
        Tensor b1 = torch.tensor(new float[] { 2.5f, 3, 8, 9.5f }, [1, 4]);
        Tensor rois = torch.tensor(new float[] { 0, 1, 1, 7, 6, 0, 0, 0, 11, 9, 1, 2.5f, 3, 8, 9.5f }, [3, 5]);
        Tensor fromLists = RoiAlign.Apply(features, [b0, b1], 5, 5, 1.0, 2, false);
        Tensor fromRois = RoiAlign.Apply(features, rois, 5, 5, 1.0, 2, false);
        Assert.Equal(0.0, Fixture.MaxAbsDiff(fromLists, fromRois));
    }

    [Fact]
    public void ConstantFeaturesPoolToTheConstantInsideTheMap()
    {
        // Bilinear interpolation of a constant is the constant for any sample inside the map.
        using var scope = NewDisposeScope();
        Tensor features = torch.full([1, 2, 16, 16], 3.25f);
        Tensor rois = torch.tensor(new float[] { 0, 2, 3, 9, 12, 0, 0, 0, 15, 15, 0, 4.2f, 4.3f, 4.4f, 4.9f }, [3, 5]);
        foreach (bool aligned in new[] { false, true })
            foreach (int sampling in new[] { 0, 2, 3 })
            {
                Tensor pooled = RoiAlign.Apply(features, rois, 7, 7, 1.0, sampling, aligned);
                Assert.Equal(new long[] { 3, 2, 7, 7 }, pooled.shape);
                Assert.True(Fixture.MaxAbsDiff(pooled, torch.full_like(pooled, 3.25f)) < 1e-6, $"aligned {aligned} sampling {sampling}");
            }
    }

    [Fact]
    public void NoRoisGiveAnEmptyOutput()
    {
        using var scope = NewDisposeScope();
        Tensor pooled = RoiAlign.Apply(torch.rand(1, 3, 5, 5), torch.zeros(0, 5), 7, 7, 1.0, 2, false);
        Assert.Equal(new long[] { 0, 3, 7, 7 }, pooled.shape);
    }

    [Fact]
    public void BadShapesAreRejectedWithTheProblem()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => RoiAlign.Apply(torch.rand(1, 3, 5, 5), torch.zeros(2, 4), 7, 7, 1.0, 2, false));
        Assert.Contains("[K, 5]", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => RoiAlign.Apply(torch.rand(1, 3, 5, 5), torch.zeros(2, 5), 7, 7, 0.0, 2, false));
    }
}
