using Man.Vision.Data.Tests.Classification;
using Man.Vision.Data.Transforms;
using Newtonsoft.Json.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Data.Tests.Transforms;

public sealed class TransformTests
{
    private static Tensor Batch(int n, int c, int h, int w) => torch.arange(n * c * h * w, dtype: ScalarType.Float32).div(n * c * h * w).view(n, c, h, w);

    [Fact]
    public void RandomCrop_with_padding_keeps_shape_and_values_at_the_drawn_offsets()
    {
        using var scope = torch.NewDisposeScope();
        var x = Batch(6, 3, 32, 32);
        var y = new RandomCrop(32, 4).Apply(x, new Random(7));
        Assert.Equal(new long[] { 6, 3, 32, 32 }, y.shape);
        // Replay the draws: top then left per sample, each in 0..8.
        var rng = new Random(7);
        var padded = x.data<float>().ToArray();
        var outv = y.data<float>().ToArray();
        for (int i = 0; i < 6; i++)
        {
            int top = rng.Next(9), left = rng.Next(9);
            for (int c = 0; c < 3; c++)
                for (int r = 0; r < 32; r++)
                    for (int q = 0; q < 32; q++)
                    {
                        int sr = r + top - 4, sq = q + left - 4;
                        float expected = sr is >= 0 and < 32 && sq is >= 0 and < 32 ? padded[((i * 3 + c) * 32 + sr) * 32 + sq] : 0f;
                        Assert.Equal(expected, outv[((i * 3 + c) * 32 + r) * 32 + q]);
                    }
        }
    }

    [Fact]
    public void Crop_at_the_centre_offset_is_the_identity_and_at_the_corner_shifts_in_zeros()
    {
        using var scope = torch.NewDisposeScope();
        var x = Batch(2, 3, 8, 8);
        var same = RandomCrop.Crop(x, [(4, 4), (4, 4)], 8, 4);
        Assert.True(same.IsEqual(x));
        var corner = RandomCrop.Crop(x, [(0, 0), (8, 8)], 8, 4);
        Assert.Equal(0f, corner[0, .., ..4, ..].abs().sum().item<float>());
        Assert.True(corner[0, .., 4.., 4..].IsEqual(x[0, .., ..4, ..4]));
        Assert.True(corner[1, .., ..4, ..4].IsEqual(x[1, .., 4.., 4..]));
        Assert.Throws<ArgumentException>(() => new RandomCrop(40, 2).Apply(x, new Random(1)));
    }

    [Fact]
    public void Flip_reverses_width_for_the_drawn_images_only()
    {
        using var scope = torch.NewDisposeScope();
        var x = Batch(4, 3, 5, 7);
        var y = RandomHorizontalFlip.Flip(x, [true, false, true, false]);
        var xv = x.data<float>().ToArray();
        var yv = y.data<float>().ToArray();
        for (int i = 0; i < 4; i++)
            for (int c = 0; c < 3; c++)
                for (int r = 0; r < 5; r++)
                    for (int q = 0; q < 7; q++)
                        Assert.Equal(xv[((i * 3 + c) * 5 + r) * 7 + (i % 2 == 0 ? 6 - q : q)], yv[((i * 3 + c) * 5 + r) * 7 + q]);
        Assert.True(new RandomHorizontalFlip(0).Apply(x, new Random(1)).IsEqual(x));
        Assert.True(new RandomHorizontalFlip(1).Apply(x, new Random(1)).IsEqual(x.flip(3)));
        // p = 0.5 flips about half of a large batch.
        var big = torch.zeros(2000, 1, 1, 2);
        big[.., .., .., 1] = torch.ones(1);
        int flipped = (int)new RandomHorizontalFlip().Apply(big, new Random(3))[.., 0, 0, 0].sum().item<float>();
        Assert.InRange(flipped, 900, 1100);
    }

    [Fact]
    public void Normalize_is_x_minus_mean_over_std_per_channel()
    {
        using var scope = torch.NewDisposeScope();
        var x = Batch(2, 3, 2, 2);
        float[] mean = [0.1f, 0.2f, 0.3f], std = [0.5f, 0.25f, 2f];
        var y = new Normalize(mean, std).Apply(x);
        var xv = x.data<float>().ToArray();
        var yv = y.data<float>().ToArray();
        for (int k = 0; k < xv.Length; k++)
        {
            int c = k / 4 % 3;
            Assert.Equal((xv[k] - mean[c]) / std[c], yv[k], 6);
        }
        Assert.Throws<ArgumentException>(() => new Normalize([0.5f], [0f]));
        Assert.Throws<ArgumentException>(() => new Normalize([0.5f, 0.5f], [1f]));
        Assert.Throws<ArgumentException>(() => Normalize.ImageNet.Apply(torch.zeros(1, 1, 2, 2)));
    }

    [Fact]
    public void Resize_and_center_crop_match_torchvision()
    {
        var json = JObject.Parse(File.ReadAllText(TestFixtures.Path("resize.json")));
        foreach (var c in json["cases"]!)
        {
            var shape = c["shape"]!.Values<long>().ToArray();
            int size = c.Value<int>("size"), crop = c.Value<int>("crop");
            using var scope = torch.NewDisposeScope();
            var z = torch.arange(shape.Aggregate(1L, (a, b) => a * b), dtype: ScalarType.Float64).reshape(shape);
            var x = z.mul(0.37).sin().add(1).div(2).to(ScalarType.Float32);
            var r = ImageResize.ResizeShorterSide(x, size);
            Assert.Equal(c["resized_shape"]!.Values<long>().ToArray(), r.shape);
            var expected = c["resized"]!.Values<float>().ToArray();
            var actual = r.data<float>().ToArray();
            for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 5);
            var cc = ImageResize.CenterCrop(r, crop, crop);
            var ec = c["cropped"]!.Values<float>().ToArray();
            var ac = cc.contiguous().data<float>().ToArray();
            Assert.Equal(ec.Length, ac.Length);
            for (int i = 0; i < ec.Length; i++) Assert.Equal(ec[i], ac[i], 5);
        }
    }

    [Fact]
    public void Photometric_adjustments_follow_the_torchvision_formulas()
    {
        using var scope = torch.NewDisposeScope();
        var x = Batch(2, 3, 4, 4);
        Assert.True(Photometric.AdjustBrightness(x, 1.5f).allclose(x.mul(1.5f).clamp(0, 1)));
        var gray = x.mul(torch.tensor(new[] { 0.2989f, 0.587f, 0.114f }).view(-1, 1, 1)).sum(1, keepdim: true);
        Assert.True(Photometric.AdjustSaturation(x, 0f).allclose(gray.expand(-1, 3, -1, -1)));
        var contrast0 = Photometric.AdjustContrast(x, 0f, 1f);
        Assert.True(contrast0[0].allclose(gray[0].mean().expand(3, 4, 4)));
        Assert.True(contrast0[1].allclose(x[1]));
        var j1 = new ColorJitter(0.4f, 0.4f, 0.4f).Apply(x, new Random(5));
        var j2 = new ColorJitter(0.4f, 0.4f, 0.4f).Apply(x, new Random(5));
        Assert.True(j1.IsEqual(j2));
        Assert.False(j1.IsEqual(x));
        Assert.InRange(j1.min().item<float>(), 0f, 1f);
        Assert.InRange(j1.max().item<float>(), 0f, 1f);
    }

    [Fact]
    public void Compose_applies_in_order_and_same_seed_gives_same_output()
    {
        using var scope = torch.NewDisposeScope();
        var x = Batch(8, 3, 16, 16);
        var t = new BatchCompose(new RandomCrop(16, 2), new RandomHorizontalFlip());
        Assert.True(t.Apply(x, new Random(11)).IsEqual(t.Apply(x, new Random(11))));
        Assert.False(t.Apply(x, new Random(11)).IsEqual(t.Apply(x, new Random(12))));
    }
}
