using Man.Testing;
using Man.Vision.Data.Coco;
using Man.Vision.Data.Masks;
using Man.Vision.Data.Records;

namespace Man.Vision.Data.Tests.Coco;

public sealed class CocoReaderTests
{
    private static DetectionDataset Tiny() => CocoReader.Read(
        SharedData.Path("tiny-coco/instances_train2017_small.json"), SharedData.Path("tiny-coco/train_2017_small"));

    [SharedDataFact]
    public void Tiny_coco_has_16_images_197_annotations_and_one_crowd()
    {
        var ds = Tiny();
        Assert.Equal(16, ds.Images.Count);
        Assert.Equal(197, ds.ObjectCount);
        Assert.Equal(1, ds.Images.Sum(i => i.Objects.Count(o => o.IsCrowd)));
        Assert.Equal(80, ds.Categories.Count);
        Assert.True(ds.Log.IsEmpty, ds.Log.ToString());

        // Category ids 1..90 with gaps map to labels 1..80 in id order and back.
        Assert.Equal(1, ds.Categories.LabelOf(1));
        Assert.Equal(80, ds.Categories.LabelOf(90));
        Assert.Equal(12, ds.Categories.LabelOf(13)); // id 12 is unused in COCO
        Assert.Equal(90, ds.Categories.CategoryIdOf(80));
        Assert.Equal("person", ds.Categories.NameOf(1));
        foreach (var o in ds.Images.SelectMany(i => i.Objects))
            Assert.Equal(o.CategoryId, ds.Categories.CategoryIdOf(o.Label));
    }

    [SharedDataFact]
    public void Boxes_are_converted_from_xywh_to_xyxy()
    {
        var ds = Tiny();
        // annotations[0] of the file: image 554625, bbox [380.74, 112.85, 40.62, 248.82], category 72 (tv).
        var img = ds.Images.Single(i => i.Id == 554625);
        var o = img.Objects.Single(a => a.Id == 30093);
        Assert.Equal(380.74, o.Box.X1, 6);
        Assert.Equal(112.85, o.Box.Y1, 6);
        Assert.Equal(380.74 + 40.62, o.Box.X2, 6);
        Assert.Equal(112.85 + 248.82, o.Box.Y2, 6);
        Assert.Equal(72, o.CategoryId);
        Assert.Equal(7821.5317, o.Area, 3);
        Assert.IsType<PolygonMask>(o.Mask);
    }

    [SharedDataFact]
    public void Rasterised_mask_areas_agree_with_the_json_area()
    {
        var ds = Tiny();
        var crowd = ds.Images.SelectMany(i => i.Objects.Select(o => (i, o))).Single(t => t.o.IsCrowd);
        Assert.IsType<RleMask>(crowd.o.Mask);
        // The crowd's RLE decodes exactly: 7378 foreground pixels (the sum of its odd counts, computed in Python
        // from the json). Its json "area" says 8340: COCO's crowd areas were not computed from these RLEs, so the
        // area is kept as stored (evaluation area ranges use it) and not compared here.
        var crowdMask = crowd.o.Mask!.ToRle(crowd.i.Height, crowd.i.Width);
        Assert.Equal(7378, crowdMask.Area);
        Assert.Equal(7378, crowdMask.Decode().Sum(b => (int)b));
        Assert.Equal(8340, crowd.o.Area);
        Assert.Equal(crowdMask, Rle.FromCompressedString(crowdMask.ToCompressedString(), crowd.i.Height, crowd.i.Width));

        // Polygons: pycocotools' raster count and the json (polygon) area differ by the boundary pixels.
        // Summed over all 196 polygon objects they agree within 2 %, and no object of 400 px or more is off by more than 15 %.
        double sumJson = 0, sumRaster = 0;
        foreach (var (img, o) in ds.Images.SelectMany(i => i.Objects.Where(o => !o.IsCrowd).Select(o => (i, o))))
        {
            long raster = o.Mask!.ToRle(img.Height, img.Width).Area;
            sumJson += o.Area;
            sumRaster += raster;
            if (o.Area >= 400) Assert.InRange(raster / o.Area, 0.85, 1.15);
            // The mask lies in its box (one pixel of rounding allowed).
            var (bx, by, bw, bh) = o.Mask.ToRle(img.Height, img.Width).ToBbox();
            Assert.InRange(bx, o.Box.X1 - 1, o.Box.X2);
            Assert.InRange(by + bh, o.Box.Y1, o.Box.Y2 + 1.5);
        }
        Assert.InRange(sumRaster / sumJson, 0.98, 1.02);
    }
}
