using Man.Vision.Data.DetectionTransforms;
using Man.Vision.Data.Records;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Data.Tests.DetectionTransforms;

public sealed class TransformTests
{
    private static DetectionSample Sample(int h = 10, int w = 20)
    {
        var img = arange(3 * h * w).view(3, h, w).to(ScalarType.Float32) / (3f * h * w);
        var masks = zeros(2, h, w, ScalarType.Byte);
        masks[0, 1..4, 2..6] = tensor((byte)1);
        masks[1, 5..9, 15..20] = tensor((byte)1);
        var boxes = tensor(new float[] { 2, 1, 6, 4, 15, 5, 20, 9 }, [2, 4]);
        var t = new DetectionTarget(boxes, tensor(new long[] { 3, 1 }), masks, zeros(2, ScalarType.Int64), tensor(new float[] { 12, 20 }), zeros(2, ScalarType.Bool), 7);
        return new DetectionSample(img, t, new ImageRecord(7, "mem", w, h, []));
    }

    [Fact]
    public void Flip_mirrors_image_boxes_and_masks_consistently()
    {
        using var scope = NewDisposeScope();
        var s = Sample();
        var f = new RandomHorizontalFlip(1.0).Apply(s, new Random(0));
        Assert.Equal(new float[] { 14, 1, 18, 4, 0, 5, 5, 9 }, f.Target.Boxes.data<float>().ToArray());
        Assert.Equal(s.Image[.., .., 0].data<float>().ToArray(), f.Image[.., .., 19].data<float>().ToArray());
        // The mask's box is the flipped box.
        var m0 = f.Target.Masks![0];
        var cols = m0.any(0).nonzero().flatten().data<long>().ToArray();
        Assert.Equal((14L, 17L), (cols.Min(), cols.Max()));
        Assert.Same(s, new RandomHorizontalFlip(0.0).Apply(s, new Random(0)));
    }

    [Fact]
    public void Clip_and_drop_removes_degenerate_boxes_with_their_rows()
    {
        using var scope = NewDisposeScope();
        var s = Sample();
        var t = s.Target.With(tensor(new float[] { -3, 1, 6, 14, 25, 5, 30, 9 }, [2, 4]));
        var o = new ClipAndDropBoxes().Apply(s with { Target = t }, new Random(0));
        Assert.Equal(1, o.Target.Count);
        Assert.Equal(new float[] { 0, 1, 6, 10 }, o.Target.Boxes.data<float>().ToArray());
        Assert.Equal(new long[] { 3 }, o.Target.Labels.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 10, 20 }, o.Target.Masks!.shape);
    }

    [Fact]
    public void Photometric_ops_match_torchvision_formulas()
    {
        using var scope = NewDisposeScope();
        var img = tensor(new float[] { 0.2f, 0.9f, 0.5f, 0.4f, 0.1f, 0.7f }, [3, 1, 2]);
        // Contrast: blend with the mean grey value 0.2989·R + 0.587·G + 0.114·B over the image.
        double grey0 = 0.2989 * 0.2 + 0.587 * 0.5 + 0.114 * 0.1, grey1 = 0.2989 * 0.9 + 0.587 * 0.4 + 0.114 * 0.7;
        double mean = (grey0 + grey1) / 2;
        var c = ImageOps.AdjustContrast(img, 1.5).data<float>().ToArray();
        Assert.Equal(Math.Clamp(1.5 * 0.2 - 0.5 * mean, 0, 1), c[0], 5);
        // Hue: a shift by 0 is the identity, by ±1/3 turn maps pure red to green / blue.
        Assert.Equal(img.data<float>().ToArray(), ImageOps.AdjustHue(img, 0).data<float>().ToArray(), new FloatTolerance(1e-6f));
        var red = tensor(new float[] { 1, 0, 0 }, [3, 1, 1]);
        Assert.Equal(new float[] { 0, 1, 0 }, ImageOps.AdjustHue(red, 1.0 / 3).data<float>().ToArray(), new FloatTolerance(1e-5f));
        // HSV round trip.
        var rnd = rand(3, 4, 5, generator: new Generator(3));
        Assert.True(ImageOps.HsvToRgb(ImageOps.RgbToHsv(rnd)).allclose(rnd, 1e-5, 1e-5));
        // Normalize.
        var n = ImageOps.Normalize(img, [0.5f, 0.5f, 0.5f], [0.25f, 0.5f, 1f]).data<float>().ToArray();
        Assert.Equal((0.2f - 0.5f) / 0.25f, n[0], 6);
    }

    [Fact]
    public void Random_scale_crop_pads_labels_with_ignore_and_keeps_alignment()
    {
        using var scope = NewDisposeScope();
        int h = 8, w = 12;
        var img = zeros(3, h, w);
        var label = zeros(h, w, ScalarType.Int64);
        label[.., 6..] = tensor(4L);
        img[0, .., 6..] = tensor(1f);
        var s = new SegmentationSample(img, label, new LabelImageRecord("i", "l", "x"));
        var t = new RandomScaleCrop(16, 16, 1.0, 1.0);
        var o = t.Apply(s, new Random(0));
        Assert.Equal(new long[] { 16, 16 }, o.Label.shape);
        Assert.Equal(new long[] { 3, 16, 16 }, o.Image.shape);
        Assert.Equal(16 * 16 - h * w, o.Label.eq(255).sum().item<long>());
        Assert.Equal(0, o.Image.narrow(1, h, 16 - h).abs().sum().item<float>());
        // Where the label is 4 the red channel is 1 (aligned after scale and crop).
        var big = new RandomScaleCrop(6, 20, 2.0, 2.0).Apply(s, new Random(5));
        Assert.True(big.Label.eq(4).eq(big.Image[0].gt(0.5f)).all().item<bool>());
        Assert.True(big.Label.eq(4).any().item<bool>() && big.Label.eq(0).any().item<bool>(), "the crop should straddle the class edge");
    }

    private sealed class FloatTolerance(float tol) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tol;
        public int GetHashCode(float f) => 0;
    }
}
