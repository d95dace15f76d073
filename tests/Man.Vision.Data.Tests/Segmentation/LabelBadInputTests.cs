using Man.Testing;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.DetectionTransforms;
using Man.Vision.Data.Images;
using Man.Vision.Data.Segmentation;

namespace Man.Vision.Data.Tests.Segmentation;

public sealed class LabelBadInputTests
{
    private static TempDir CamVidLike(byte[] label, int w = 6, int h = 4, bool rgbLabel = false)
    {
        var tmp = new TempDir();
        ImageEncoder.Save(new RgbImage(w, h, new byte[w * h * 3]), tmp.File("train/x.png"));
        if (rgbLabel) ImageEncoder.Save(new RgbImage(w, h, label.SelectMany(v => new[] { v, v, v }).ToArray()), tmp.File("trainannot/x.png"));
        else PngCodec.WriteGray(tmp.File("trainannot/x.png"), label, w, h);
        File.WriteAllText(tmp.File("train.txt"), "/SegNet/CamVid/train/x.png /SegNet/CamVid/trainannot/x.png\n");
        return tmp;
    }

    [Fact]
    public void Out_of_range_labels_fail_with_value_count_and_position()
    {
        var label = new byte[24];
        label[7] = 12;
        label[8] = 40;
        label[9] = 11;
        using var tmp = CamVidLike(label);
        var ds = SegmentationReader.ReadCamVid(tmp.Path, "train");
        var e = Assert.Throws<BadInputException>(() => ds.ReadLabels(0));
        Assert.Equal("label-out-of-range", e.Kind);
        Assert.Contains("x.png", e.Message);
        Assert.Contains("2 pixel(s)", e.Message);
        Assert.Contains("12, 40", e.Message);
        Assert.Contains("x=1, y=1", e.Message);
        Assert.Contains("values 0..11, 255", e.Message);
    }

    [Fact]
    public void Out_of_range_labels_can_become_ignore_as_a_counted_repair()
    {
        var label = new byte[24];
        label[7] = 12;
        label[9] = 11;
        label[10] = 3;
        using var tmp = CamVidLike(label);
        var ds = SegmentationReader.ReadCamVid(tmp.Path, "train");
        var map = ds.ReadLabels(0, outOfRangeAsIgnore: true);
        Assert.Equal((255, 255, 3, 0), (map.Ids[7], map.Ids[9], map.Ids[10], map.Ids[0]));
        Assert.Equal(1, ds.Log.Count("label-out-of-range-ignored", BadInputAction.Repaired));
    }

    [Fact]
    public void Skip_policy_leaves_the_sample_out_in_the_mapper()
    {
        var label = new byte[24];
        label[0] = 200;
        using var tmp = CamVidLike(label);
        var ds = SegmentationReader.ReadCamVid(tmp.Path, "train", OnBad.Skip);
        Assert.Null(new SegmentationMapper(ds).Map(0, new Random(1)));
        Assert.Equal(1, ds.Log.Count("label-out-of-range", BadInputAction.Skipped));
    }

    [Fact]
    public void Rgb_camvid_label_is_an_error_but_rgb_voc_label_maps_through_the_palette()
    {
        using var tmp = CamVidLike(new byte[24], rgbLabel: true);
        var e = Assert.Throws<BadInputException>(() => SegmentationReader.ReadCamVid(tmp.Path, "train").ReadLabels(0));
        Assert.Equal("rgb-label", e.Kind);

        // A VOC label saved as RGB (colours of the VOC palette) is read back to indices.
        var pal = LabelEncoding.VocPalette(256);
        byte[] idx = [0, 1, 15, 255, 20, 0];
        var rgb = idx.SelectMany(i => new[] { pal[3 * i], pal[3 * i + 1], pal[3 * i + 2] }).ToArray();
        string path = tmp.File("voc.png");
        ImageEncoder.Save(new RgbImage(3, 2, rgb), path);
        var log = new BadInputLog();
        var map = LabelReader.Read(path, LabelEncoding.Voc, log);
        Assert.Equal(idx, map.Ids);
        Assert.Equal(1, log.Count("rgb-label-to-index", BadInputAction.Repaired));
    }

    [Fact]
    public void Missing_files_and_size_mismatch_are_named()
    {
        using var tmp = CamVidLike(new byte[24]);
        File.AppendAllText(tmp.File("train.txt"), "train/y.png trainannot/y.png\n");
        var e = Assert.Throws<BadInputException>(() => SegmentationReader.ReadCamVid(tmp.Path, "train"));
        Assert.Equal("missing-image", e.Kind);
        Assert.Contains("y.png", e.Message);
        Assert.Single(SegmentationReader.ReadCamVid(tmp.Path, "train", OnBad.Skip).Samples);

        PngCodec.WriteGray(tmp.File("trainannot/x.png"), new byte[20], 5, 4);
        var strict = new SegmentationMapper(SegmentationReader.ReadCamVid(tmp.Path, "train", OnBad.Skip) with { Log = new BadInputLog(OnBad.Fail) });
        var e2 = Assert.Throws<BadInputException>(() => strict.Map(0, new Random(0)));
        Assert.Equal("label-size-mismatch", e2.Kind);
        Assert.Contains("5x4", e2.Message);
    }
}
