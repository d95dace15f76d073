using Man.Testing;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.DetectionTransforms;
using Man.Vision.Data.Images;
using Man.Vision.Data.Voc;

namespace Man.Vision.Data.Tests.Voc;

public sealed class VocBadInputTests
{
    private static TempDir Root(params (string Id, string Xml)[] files)
    {
        var tmp = new TempDir();
        foreach (var (id, xml) in files)
        {
            File.WriteAllText(tmp.File($"Annotations/{id}.xml"), xml);
            ImageEncoder.Save(new RgbImage(50, 40, new byte[50 * 40 * 3]), tmp.File($"JPEGImages/{id}.png"));
        }
        File.WriteAllLines(tmp.File("ImageSets/Main/train.txt"), files.Select(f => f.Id));
        File.WriteAllLines(tmp.File("labels.txt"), ["cat", "dog"]);
        return tmp;
    }

    private static string Xml(string id, int w, int h, string objects) =>
        $"<annotation>\n<filename>{id}.png</filename>\n<size><width>{w}</width><height>{h}</height><depth>3</depth></size>\n{objects}</annotation>\n";

    private static string Obj(string name, double x1, double y1, double x2, double y2, int difficult = 0) =>
        $"<object>\n<name>{name}</name>\n<difficult>{difficult}</difficult>\n<bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox>\n</object>\n";

    [Fact]
    public void Malformed_xml_names_file_and_line()
    {
        using var tmp = Root(("a", "<annotation>\n<size><width>5</width>\n</annotation>"));
        var e = Assert.Throws<BadInputException>(() => VocReader.Read(tmp.Path, "train"));
        Assert.Equal("malformed-xml", e.Kind);
        Assert.Contains("a.xml", e.Message);
        Assert.Contains("line 3", e.Message);
    }

    [Fact]
    public void Missing_field_names_the_line()
    {
        using var tmp = Root(("a", Xml("a", 50, 40, "<object>\n<name>cat</name>\n<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax></bndbox>\n</object>\n")));
        var e = Assert.Throws<BadInputException>(() => VocReader.Read(tmp.Path, "train"));
        Assert.Equal("missing-field", e.Kind);
        Assert.Contains("<ymax>", e.Message);
        Assert.Contains("line 6", e.Message);
    }

    [Fact]
    public void Size_zero_is_taken_from_the_image()
    {
        using var tmp = Root(("a", Xml("a", 0, 0, Obj("dog", 1, 1, 50, 40, difficult: 1))));
        var ds = VocReader.Read(tmp.Path, "train");
        var img = Assert.Single(ds.Images);
        Assert.Equal((50, 40), (img.Width, img.Height));
        Assert.Equal(1, ds.Log.Count("size-from-image", BadInputAction.Repaired));
        var o = Assert.Single(img.Objects);
        Assert.True(o.Difficult);
        Assert.Equal(2, o.Label);
        Assert.Equal(new Records.BoxXyxy(0, 0, 50, 40), o.Box);
    }

    [Fact]
    public void Bad_boxes_and_unknown_classes_fail_or_skip_the_image()
    {
        using var tmp = Root(
            ("a", Xml("a", 50, 40, Obj("cat", 10, 10, 5, 20))),      // x2 < x1
            ("b", Xml("b", 50, 40, Obj("horse", 1, 1, 5, 5))),       // not in labels.txt
            ("c", Xml("c", 50, 40, Obj("cat", 45, 30, 60, 50))),     // partly outside: clipped
            ("d", Xml("d", 50, 40, Obj("dog", 2, 2, 8, 8))));
        var e = Assert.Throws<BadInputException>(() => VocReader.Read(tmp.Path, "train"));
        Assert.Equal("invalid-box", e.Kind);
        Assert.Contains("a.xml", e.Message);

        var ds = VocReader.Read(tmp.Path, "train", new VocReadOptions(OnBad.Skip));
        Assert.Equal(["c", "d"], ds.Images.Select(i => i.Name));
        Assert.Equal(new Records.BoxXyxy(44, 29, 50, 40), ds.Images[0].Objects[0].Box);
        Assert.Equal(1, ds.Log.Count("invalid-box", BadInputAction.Skipped));
        Assert.Equal(1, ds.Log.Count("unknown-category", BadInputAction.Skipped));
        Assert.Equal(1, ds.Log.Count("box-clipped", BadInputAction.Repaired));
        Assert.Contains("horse", ds.Log.ToString());
    }

    [Fact]
    public void Png_saved_as_jpg_rgba_and_grayscale_images_are_repaired_and_counted()
    {
        using var tmp = Root(("a", Xml("a.jpg", 50, 40, Obj("cat", 1, 1, 10, 10))), ("b", Xml("b", 50, 40, Obj("cat", 1, 1, 10, 10))));
        // a: a png written under a .jpg name; b: replaced by an RGBA png.
        File.Move(tmp.File("JPEGImages/a.png"), tmp.File("JPEGImages/a.jpg"));
        File.WriteAllText(tmp.File("Annotations/a.xml"), Xml("a", 50, 40, Obj("cat", 1, 1, 10, 10)).Replace("a.png", "a.jpg"));
        using (var bmp = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(50, 40, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Unpremul)))
        {
            bmp.Erase(new SkiaSharp.SKColor(10, 200, 30, 128));
            using var data = bmp.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(tmp.File("JPEGImages/b.png"), data.ToArray());
        }
        var ds = VocReader.Read(tmp.Path, "train");
        var mapper = new DetectionMapper(ds);
        for (int i = 0; i < 2; i++)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            var s = mapper.Map(i, new Random(0));
            Assert.NotNull(s);
            Assert.Equal(new long[] { 3, 40, 50 }, s!.Image.shape);
        }
        Assert.Equal(1, ds.Log.Count(ImageDecoder.ExtensionMismatchKind, BadInputAction.Repaired));
        Assert.Equal(1, ds.Log.Count(ImageDecoder.AlphaDroppedKind, BadInputAction.Repaired));
    }

    [Fact]
    public void Image_size_differing_from_the_annotation_fails_or_is_skipped()
    {
        using var tmp = Root(("a", Xml("a", 64, 40, Obj("cat", 1, 1, 10, 10))));
        var strict = new DetectionMapper(VocReader.Read(tmp.Path, "train"));
        var e = Assert.Throws<BadInputException>(() => strict.Map(0, new Random(0)));
        Assert.Equal("image-size-mismatch", e.Kind);
        Assert.Contains("50x40", e.Message);
        var lenient = new DetectionMapper(VocReader.Read(tmp.Path, "train", new VocReadOptions(OnBad.Skip)));
        Assert.Null(lenient.Map(0, new Random(0)));
        Assert.Equal(1, lenient.Dataset.Log.SkipCount);
    }
}
