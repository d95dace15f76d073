using Man.Testing;
using Man.Vision.Data.Segmentation;

namespace Man.Vision.Data.Tests.Segmentation;

public sealed class CamVidTests
{
    [SharedDataFact]
    public void CamVid_lists_367_and_101_pairs()
    {
        string root = SharedData.Path("camvid");
        Assert.Equal(367, SegmentationReader.ReadCamVid(root, "train").Samples.Count);
        Assert.Equal(101, SegmentationReader.ReadCamVid(root, "val").Samples.Count);
    }

    [SharedDataFact]
    public void Label_values_are_0_to_11_and_void_becomes_ignore()
    {
        var ds = SegmentationReader.ReadCamVid(SharedData.Path("camvid"), "train");
        Assert.Equal(11, ds.NumClasses);
        var rawSeen = new HashSet<int>();
        var idsSeen = new HashSet<int>();
        for (int i = 0; i < ds.Samples.Count; i += 37)
        {
            var png = PngCodec.Read(ds.Samples[i].LabelPath);
            Assert.Equal((480, 360, 0, 8), (png.Width, png.Height, png.ColorType, png.BitDepth));
            var map = ds.ReadLabels(i);
            for (int k = 0; k < map.Ids.Length; k++)
            {
                int raw = png.Samples[k];
                rawSeen.Add(raw);
                idsSeen.Add(map.Ids[k]);
                Assert.Equal(raw == 11 ? 255 : raw, map.Ids[k]);
            }
        }
        Assert.True(rawSeen.Max() <= 11, $"raw values {string.Join(",", rawSeen.Order())}");
        Assert.Contains(11, rawSeen);
        Assert.Contains(255, idsSeen);
        Assert.DoesNotContain(11, idsSeen);
        Assert.True(rawSeen.Count >= 10, $"only {rawSeen.Count} distinct values seen");
        Assert.True(ds.Log.IsEmpty, ds.Log.ToString());
    }
}
