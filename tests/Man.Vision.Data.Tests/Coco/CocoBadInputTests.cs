using Man.Testing;
using Man.Vision.Data.Coco;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Images;

namespace Man.Vision.Data.Tests.Coco;

public sealed class CocoBadInputTests
{
    private const string Categories = "\"categories\": [{\"id\": 1, \"name\": \"cat\"}, {\"id\": 3, \"name\": \"dog\"}]";

    private static (TempDir Dir, string Json, string Images) Make(string images, string annotations)
    {
        var tmp = new TempDir();
        string imgDir = Path.Combine(tmp.Path, "img");
        Directory.CreateDirectory(imgDir);
        ImageEncoder.Save(new RgbImage(40, 30, new byte[40 * 30 * 3]), Path.Combine(imgDir, "a.png"));
        ImageEncoder.Save(new RgbImage(40, 30, new byte[40 * 30 * 3]), Path.Combine(imgDir, "b.png"));
        string json = tmp.File("ann.json");
        File.WriteAllText(json, $"{{\n\"images\": [{images}],\n\"annotations\": [\n{annotations}\n],\n{Categories}\n}}");
        return (tmp, json, imgDir);
    }

    private const string TwoImages = """{"id": 1, "file_name": "a.png", "width": 40, "height": 30}, {"id": 2, "file_name": "b.png", "width": 40, "height": 30}""";

    [Fact]
    public void Malformed_json_names_file_and_line()
    {
        var (tmp, json, img) = Make(TwoImages, """{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3 4]}""");
        using var _ = tmp;
        var e = Assert.Throws<BadInputException>(() => CocoReader.Read(json, img));
        Assert.Equal("malformed-json", e.Kind);
        Assert.Contains("ann.json", e.Message);
        Assert.Contains("line 4", e.Message);
    }

    [Fact]
    public void Wrong_field_type_names_the_field_path_and_line()
    {
        var (tmp, json, img) = Make(TwoImages, """{"id": 1, "image_id": 1, "category_id": "dog", "bbox": [1, 2, 3, 4]}""");
        using var _ = tmp;
        var e = Assert.Throws<BadInputException>(() => CocoReader.Read(json, img));
        Assert.Contains("annotations[0].category_id", e.Message);
        Assert.Contains("line 4", e.Message);
    }

    [Fact]
    public void Annotation_for_a_missing_image_fails_or_is_skipped()
    {
        var (tmp, json, img) = Make(TwoImages,
            """{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]},""" + "\n" +
            """{"id": 2, "image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4]}""");
        using var _ = tmp;
        var e = Assert.Throws<BadInputException>(() => CocoReader.Read(json, img));
        Assert.Equal("annotation-missing-image", e.Kind);
        Assert.Contains("annotations[1]", e.Message);
        Assert.Contains("image id 7", e.Message);

        var ds = CocoReader.Read(json, img, new CocoReadOptions(OnBad.Skip));
        Assert.Equal(2, ds.Images.Count);
        Assert.Equal(1, ds.ObjectCount);
        Assert.Empty(ds.Images[1].Objects); // image 2 kept as a negative
        Assert.Equal(1, ds.Log.Count("annotation-missing-image", BadInputAction.Skipped));
    }

    [Fact]
    public void Missing_image_file_fails_or_is_skipped()
    {
        var (tmp, json, img) = Make(TwoImages + """, {"id": 3, "file_name": "gone.jpg", "width": 40, "height": 30}""", "");
        using var _ = tmp;
        var e = Assert.Throws<BadInputException>(() => CocoReader.Read(json, img));
        Assert.Equal("missing-image", e.Kind);
        Assert.Contains("gone.jpg", e.Message);
        var ds = CocoReader.Read(json, img, new CocoReadOptions(OnBad.Skip));
        Assert.Equal(2, ds.Images.Count);
        Assert.Equal(1, ds.Log.SkipCount);
    }

    [Fact]
    public void Unknown_category_fails_or_is_skipped()
    {
        var (tmp, json, img) = Make(TwoImages,
            """{"id": 1, "image_id": 1, "category_id": 2, "bbox": [1, 2, 3, 4]},""" + "\n" +
            """{"id": 2, "image_id": 1, "category_id": 3, "bbox": [1, 2, 3, 4]}""");
        using var _ = tmp;
        var e = Assert.Throws<BadInputException>(() => CocoReader.Read(json, img));
        Assert.Equal("unknown-category", e.Kind);
        Assert.Contains("category_id 2", e.Message);
        var ds = CocoReader.Read(json, img, new CocoReadOptions(OnBad.Skip));
        var o = Assert.Single(ds.Images[0].Objects);
        Assert.Equal((3, 2), (o.CategoryId, o.Label)); // ids 1, 3 → labels 1, 2
        Assert.Equal(1, ds.Log.Count("unknown-category", BadInputAction.Skipped));
    }

    [Fact]
    public void Boxes_outside_are_clipped_inverted_ones_are_bad_and_empty_ones_dropped()
    {
        var (tmp, json, img) = Make(TwoImages,
            """{"id": 1, "image_id": 1, "category_id": 1, "bbox": [30, 20, 20, 20]},""" + "\n" +   // reaches past 40x30: clipped
            """{"id": 2, "image_id": 1, "category_id": 1, "bbox": [10, 10, -5, 4]},""" + "\n" +    // x2 < x1: bad
            """{"id": 3, "image_id": 2, "category_id": 1, "bbox": [5, 5, 0, 4]},""" + "\n" +       // no width: dropped
            """{"id": 4, "image_id": 2, "category_id": 1, "bbox": [50, 40, 5, 5]}""");             // entirely outside: bad
        using var _ = tmp;
        var e = Assert.Throws<BadInputException>(() => CocoReader.Read(json, img));
        Assert.Equal("invalid-box", e.Kind);
        Assert.Contains("annotations[1].bbox", e.Message);
        Assert.Contains("negative width", e.Message);

        var ds = CocoReader.Read(json, img, new CocoReadOptions(OnBad.Skip));
        var o = Assert.Single(ds.Images[0].Objects);
        Assert.Equal(new Records.BoxXyxy(30, 20, 40, 30), o.Box);
        Assert.Empty(ds.Images[1].Objects);
        Assert.Equal(1, ds.Log.Count("box-clipped", BadInputAction.Repaired));
        Assert.Equal(1, ds.Log.Count("empty-box-dropped", BadInputAction.Repaired));
        Assert.Equal(2, ds.Log.Count("invalid-box", BadInputAction.Skipped));
        Assert.Contains("entirely outside", ds.Log.ToString());
    }

    [Fact]
    public void Bad_segmentation_is_named()
    {
        var (tmp, json, img) = Make(TwoImages,
            """{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "segmentation": {"size": [30, 40], "counts": "zz"}}""");
        using var _ = tmp;
        var e = Assert.Throws<BadInputException>(() => CocoReader.Read(json, img));
        Assert.Equal("invalid-segmentation", e.Kind);
        Assert.Contains("annotations[0].segmentation.counts", e.Message);
    }
}
