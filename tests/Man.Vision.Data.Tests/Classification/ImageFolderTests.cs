using Man.Testing;
using Man.Vision.Data.Classification;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Images;

namespace Man.Vision.Data.Tests.Classification;

public sealed class ImageFolderTests
{
    internal static RgbImage Flat(int w, int h, byte r, byte g, byte b)
    {
        var p = new byte[w * h * 3];
        for (int i = 0; i < p.Length; i += 3) { p[i] = r; p[i + 1] = g; p[i + 2] = b; }
        return new RgbImage(w, h, p);
    }

    [Fact]
    public void Classes_are_sorted_sub_folders_and_files_are_found_recursively()
    {
        using var dir = new TempDir();
        ImageEncoder.Save(Flat(4, 3, 10, 20, 30), dir.File("zebra/b.png"));
        ImageEncoder.Save(Flat(5, 5, 1, 2, 3), dir.File("zebra/a.PNG"));
        ImageEncoder.Save(Flat(6, 2, 9, 9, 9), dir.File("Apple/nested/x.png"));
        ImageEncoder.Save(Flat(2, 2, 7, 7, 7), dir.File("cat/c.jpg"));
        File.WriteAllText(dir.File("cat/readme.txt"), "not an image");
        var set = new ImageFolderDataSet(dir.Path);
        Assert.Equal(new[] { "Apple", "cat", "zebra" }, set.Classes); // ordinal, as Python's sorted
        Assert.Equal(4, set.Count);
        Assert.Equal(new[] { 0, 1, 2, 2 }, Enumerable.Range(0, 4).Select(set.LabelOf));
        Assert.EndsWith("zebra/a.PNG", set.SourceOf(2));
        Assert.Null(set.FixedSize);
        var img = set.Load(3);
        Assert.Equal((4, 3, 3, 2), (img.Width, img.Height, img.Channels, img.Label));
        Assert.Equal(new byte[] { 10, 20, 30 }, img.Pixels[..3]);
    }

    [Fact]
    public void Missing_empty_or_classless_folders_give_clear_errors()
    {
        using var dir = new TempDir();
        var e1 = Assert.Throws<BadInputException>(() => new ImageFolderDataSet(Path.Combine(dir.Path, "absent")));
        Assert.Contains("absent", e1.Message);
        Assert.Contains("does not exist", e1.Message);

        var e2 = Assert.Throws<BadInputException>(() => new ImageFolderDataSet(dir.Path));
        Assert.Contains("no class sub-folders", e2.Message);

        ImageEncoder.Save(Flat(2, 2, 1, 1, 1), dir.File("dog/a.png"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "cat"));
        File.WriteAllText(dir.File("cat/notes.txt"), "x");
        var e3 = Assert.Throws<BadInputException>(() => new ImageFolderDataSet(dir.Path));
        Assert.Contains("cat", e3.Message);
        Assert.Equal("empty-class", e3.Kind);
    }

    [Fact]
    public void Open_recognises_train_val_layouts_and_lists_valid_names()
    {
        using var dir = new TempDir();
        foreach (var split in new[] { "train", "val" })
            foreach (var c in new[] { "a", "b" })
                ImageEncoder.Save(Flat(3, 3, 1, 2, 3), dir.File($"{split}/{c}/1.png"));
        var splits = ClassificationDataSets.Open($"imagefolder:{dir.Path}");
        Assert.Equal(2, splits.Train.Count);
        Assert.Equal(2, splits.Test!.Count);
        Assert.Equal(new[] { "a", "b" }, splits.Test.Classes);
        var plain = ClassificationDataSets.Open(Path.Combine(dir.Path, "train"));
        Assert.Null(plain.Test);
        Assert.IsType<ImageFolderDataSet>(plain.Train);

        var e = Assert.Throws<ArgumentException>(() => ClassificationDataSets.Open("imagenet:/x"));
        Assert.Contains("Unknown data set 'imagenet'", e.Message);
        Assert.Contains("cifar10:", e.Message);
        Assert.Contains("imagefolder:", e.Message);
        Assert.Contains("fashion-mnist", e.Message);
        Assert.Throws<ArgumentException>(() => ClassificationDataSets.Open("cifar10"));
        Assert.Throws<ArgumentException>(() => ClassificationDataSets.Open(Path.Combine(dir.Path, "nothing-here")));
    }

    [Fact]
    public void A_truncated_image_names_its_file_when_loaded()
    {
        using var dir = new TempDir();
        var big = new byte[40 * 40 * 3];
        new Random(3).NextBytes(big);
        ImageEncoder.Save(new RgbImage(40, 40, big), dir.File("a/ok.png"));
        var bytes = ImageEncoder.Encode(new RgbImage(40, 40, big), ImageFormat.Png);
        File.WriteAllBytes(dir.File("a/cut.png"), bytes[..(bytes.Length / 2)]);
        var set = new ImageFolderDataSet(dir.Path);
        var e = Assert.Throws<ImageDecodeException>(() => set.Load(0));
        Assert.Contains("cut.png", e.Message);
    }

    [Fact]
    public void Tiff_files_are_reported_not_silently_ignored()
    {
        using var dir = new TempDir();
        ImageEncoder.Save(Flat(2, 2, 1, 1, 1), dir.File("a/1.png"));
        File.WriteAllBytes(dir.File("a/2.tif"), [0x49, 0x49, 0x2A, 0x00]);
        var e = Assert.Throws<BadInputException>(() => new ImageFolderDataSet(dir.Path));
        Assert.Contains("2.tif", e.Message);
        var log = new BadInputLog(OnBad.Skip);
        var set = new ImageFolderDataSet(dir.Path, log);
        Assert.Equal(1, set.Count);
        Assert.Equal(1, log.Count("unsupported-format", BadInputAction.Skipped));
    }
}
