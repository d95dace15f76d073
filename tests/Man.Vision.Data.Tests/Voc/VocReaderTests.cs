using Man.Testing;
using Man.Vision.Data.Voc;

namespace Man.Vision.Data.Tests.Voc;

public sealed class VocReaderTests
{
    [SharedDataFact]
    public void Raccoon_has_a_160_40_split_and_217_boxes()
    {
        string root = SharedData.Path("raccoon-voc");
        var train = VocReader.Read(root, "train");
        var test = VocReader.Read(root, "test");
        Assert.Equal(160, train.Images.Count);
        Assert.Equal(40, test.Images.Count);
        Assert.Equal(217, train.ObjectCount + test.ObjectCount);
        Assert.Equal(["raccoon"], train.Categories.Categories.Select(c => c.Name));
        Assert.All(train.Images.SelectMany(i => i.Objects), o => Assert.Equal(1, o.Label));
        Assert.True(train.Log.IsEmpty, train.Log.ToString());
        Assert.True(test.Log.IsEmpty, test.Log.ToString());
        Assert.Empty(train.Images.Select(i => i.Name).Intersect(test.Images.Select(i => i.Name)));
    }

    [SharedDataFact]
    public void Boxes_follow_the_one_based_voc_convention()
    {
        var train = VocReader.Read(SharedData.Path("raccoon-voc"), "train");
        // raccoon-1.xml: 650x417, xmin 81, ymin 88, xmax 522, ymax 408.
        var img = train.Images.Single(i => i.Name == "raccoon-1");
        Assert.Equal((650, 417), (img.Width, img.Height));
        var o = Assert.Single(img.Objects);
        Assert.Equal(80, o.Box.X1);
        Assert.Equal(87, o.Box.Y1);
        Assert.Equal(522, o.Box.X2);
        Assert.Equal(408, o.Box.Y2);
        Assert.False(o.Difficult);
        Assert.EndsWith("raccoon-1.jpg", img.FilePath);
    }
}
