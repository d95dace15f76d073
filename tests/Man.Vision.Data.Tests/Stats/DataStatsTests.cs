using Man.Testing;
using Man.Vision.Data.Coco;
using Man.Vision.Data.Images;
using Man.Vision.Data.Segmentation;
using Man.Vision.Data.Stats;
using Man.Vision.Data.Synthetic;
using Man.Vision.Data.Voc;

namespace Man.Vision.Data.Tests.Stats;

public sealed class DataStatsTests
{
    [SharedDataFact]
    public void Tiny_coco_statistics()
    {
        var ds = CocoReader.Read(SharedData.Path("tiny-coco/instances_train2017_small.json"), SharedData.Path("tiny-coco/train_2017_small"));
        var s = DataStats.Compute(ds);
        Assert.Equal((16, 0, 197, 1), (s.Images, s.NegativeImages, s.Objects, s.Crowd));
        Assert.Equal(197, s.Small + s.Medium + s.Large);
        // Counted independently from the json "area" fields (Python): 106 small, 60 medium, 31 large.
        Assert.Equal((106, 60, 31), (s.Small, s.Medium, s.Large));
        Assert.Equal(197, s.PerClass.Sum(c => c.Objects));
        Assert.Contains("person", s.ToText());
    }

    [SharedDataFact]
    public void Raccoon_statistics()
    {
        var s = DataStats.Compute(VocReader.Read(SharedData.Path("raccoon-voc"), "train"));
        Assert.Equal(160, s.Images);
        Assert.Equal("raccoon", Assert.Single(s.PerClass).Name);
        Assert.Equal(s.Objects, s.PerClass[0].Objects);
        Assert.Equal(160, s.PerClass[0].Images);
    }

    [Fact]
    public void Synthetic_statistics_and_grid()
    {
        using var tmp = new TempDir();
        var summary = SyntheticDataWriter.Write(SyntheticTask.Detect, tmp.Path, 10, seed: 2);
        var train = CocoReader.Read(SyntheticLayout.CocoJson(tmp.Path, "train"), SyntheticLayout.ImageDir(tmp.Path));
        var val = CocoReader.Read(SyntheticLayout.CocoJson(tmp.Path, "val"), SyntheticLayout.ImageDir(tmp.Path));
        var st = DataStats.Compute(train);
        var sv = DataStats.Compute(val);
        Assert.Equal(summary.Objects, st.Objects + sv.Objects);
        foreach (var name in SyntheticShapes.Names)
            Assert.Equal(summary.ObjectsPerClass[name], st.PerClass.Single(c => c.Name == name).Objects + sv.PerClass.Single(c => c.Name == name).Objects);
        Assert.Equal((256, 256, 256, 256), (st.Sizes.MinWidth, st.Sizes.MaxWidth, st.Sizes.MinHeight, st.Sizes.MaxHeight));

        string grid = Path.Combine(tmp.Path, "grid.png");
        SampleGrid.Render(train, grid, count: 6, columns: 3, cell: 128);
        var img = ImageDecoder.Decode(grid);
        Assert.Equal((3 * 132 + 4, 2 * 132 + 4), (img.Width, img.Height));

        var seg = SegmentationReader.ReadVoc(tmp.Path, "trainval");
        var ss = DataStats.Compute(seg);
        Assert.Equal(10, ss.ImagesRead);
        Assert.Equal(0, ss.IgnorePixels);
        Assert.Equal(10L * 256 * 256, ss.PerClass.Sum(c => c.Pixels));
        // Foreground pixels of each class = the summed mask areas of its objects.
        var all = train.Images.Concat(val.Images).SelectMany(i => i.Objects).ToArray();
        for (int k = 1; k <= SyntheticShapes.Names.Count; k++)
            Assert.Equal(all.Where(o => o.Label == k).Sum(o => (long)o.Area), ss.PerClass[k].Pixels);
        SampleGrid.Render(seg, Path.Combine(tmp.Path, "seg.png"), count: 4);
        Assert.True(File.Exists(Path.Combine(tmp.Path, "seg.png")));
    }
}
