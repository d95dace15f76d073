using Man.Testing;
using Man.Vision.Data.Coco;
using Man.Vision.Data.Images;
using Man.Vision.Data.Records;
using Man.Vision.Data.Segmentation;
using Man.Vision.Data.Synthetic;
using Man.Vision.Data.Voc;

namespace Man.Vision.Data.Tests.Synthetic;

public sealed class SyntheticRoundTripTests
{
    [Fact]
    public void Coco_voc_and_label_pngs_read_back_the_same_boxes_and_masks()
    {
        using var tmp = new TempDir();
        var summary = SyntheticDataWriter.Write(SyntheticTask.Detect, tmp.Path, 15, seed: 7);
        Assert.Equal(15, summary.TrainImages + summary.ValImages);
        Assert.Equal(4, summary.ValImages); // frac(i·φ) < 0.2 for i = 0, 5, 10, 13

        foreach (var split in SyntheticLayout.Splits)
        {
            var coco = CocoReader.Read(SyntheticLayout.CocoJson(tmp.Path, split), SyntheticLayout.ImageDir(tmp.Path), new CocoReadOptions());
            var voc = VocReader.Read(tmp.Path, split);
            var seg = SegmentationReader.ReadVoc(tmp.Path, split);
            Assert.True(coco.Log.IsEmpty && voc.Log.IsEmpty && seg.Log.IsEmpty, coco.Log + "\n" + voc.Log + "\n" + seg.Log);
            Assert.Equal(SyntheticShapes.Names, coco.Categories.Categories.Select(c => c.Name));
            Assert.Equal(SyntheticShapes.Names, voc.Categories.Categories.Select(c => c.Name));
            Assert.Equal(["background", .. SyntheticShapes.Names], seg.Encoding.ClassNames);
            Assert.Equal(coco.Images.Count, voc.Images.Count);
            Assert.Equal(coco.Images.Count, seg.Samples.Count);

            for (int i = 0; i < coco.Images.Count; i++)
            {
                var c = coco.Images[i];
                var v = voc.Images[i];
                Assert.Equal(c.FilePath, v.FilePath);
                Assert.Equal((c.Width, c.Height), (v.Width, v.Height));
                Assert.Equal(c.Objects.Select(o => (o.Box, o.Label)), v.Objects.Select(o => (o.Box, o.Label)));

                // Label png: every mask pixel carries its object's class, and nothing else is foreground.
                var labels = LabelReader.Read(seg.Samples[i].LabelPath, seg.Encoding);
                long foreground = labels.Ids.Count(b => b != 0);
                long maskPixels = 0;
                foreach (var o in c.Objects)
                {
                    var m = o.Mask!.Rasterize(c.Height, c.Width);
                    Assert.Equal(o.Area, m.Sum(b => (double)b));
                    var (bx, by, bw, bh) = o.Mask.ToRle(c.Height, c.Width).ToBbox();
                    Assert.Equal(BoxXyxy.FromXywh(bx, by, bw, bh), o.Box);
                    for (int p = 0; p < m.Length; p++)
                        if (m[p] == 1) Assert.Equal(o.Label, labels.Ids[p]);
                    maskPixels += (long)o.Area;
                }
                Assert.Equal(foreground, maskPixels);
                var img = ImageDecoder.Decode(c.FilePath);
                Assert.Equal((256, 256), (img.Width, img.Height));
            }
        }
    }

    [Fact]
    public void Same_seed_gives_identical_files_and_image_i_does_not_depend_on_n()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        using var c = new TempDir();
        SyntheticDataWriter.Write(SyntheticTask.Segment, a.Path, 4, seed: 3);
        SyntheticDataWriter.Write(SyntheticTask.Segment, b.Path, 6, seed: 3);
        SyntheticDataWriter.Write(SyntheticTask.Segment, c.Path, 4, seed: 4);
        foreach (var name in new[] { "000001", "000004" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(a.Path, "JPEGImages", name + ".png")), File.ReadAllBytes(Path.Combine(b.Path, "JPEGImages", name + ".png")));
            Assert.Equal(File.ReadAllBytes(Path.Combine(a.Path, "SegmentationClass", name + ".png")), File.ReadAllBytes(Path.Combine(b.Path, "SegmentationClass", name + ".png")));
            Assert.Equal(File.ReadAllText(Path.Combine(a.Path, "Annotations", name + ".xml")), File.ReadAllText(Path.Combine(b.Path, "Annotations", name + ".xml")));
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(a.Path, "JPEGImages", name + ".png")), File.ReadAllBytes(Path.Combine(c.Path, "JPEGImages", name + ".png")));
        }
    }

    [Fact]
    public void Objects_span_coco_size_ranges_and_every_class()
    {
        using var tmp = new TempDir();
        var s = SyntheticDataWriter.Write(SyntheticTask.Detect, tmp.Path, 40, seed: 1);
        Assert.All(SyntheticShapes.Names, n => Assert.True(s.ObjectsPerClass[n] >= 10, $"{n}: {s.ObjectsPerClass[n]}"));
        var all = SyntheticLayout.Splits.SelectMany(sp => CocoReader.Read(SyntheticLayout.CocoJson(tmp.Path, sp), SyntheticLayout.ImageDir(tmp.Path)).Images)
            .SelectMany(i => i.Objects).ToArray();
        Assert.Equal(s.Objects, all.Length);
        Assert.Contains(all, o => o.Area < 32 * 32);
        Assert.Contains(all, o => o.Area > 96 * 96);
        Assert.Contains(all, o => o.Area is >= 32 * 32 and <= 96 * 96);
        Assert.All(all, o => Assert.True(o.Box.IsInside(256, 256) && !o.Box.IsDegenerate));
    }
}
