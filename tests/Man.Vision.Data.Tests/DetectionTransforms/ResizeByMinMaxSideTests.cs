using System.Runtime.CompilerServices;
using Man.Vision.Data.DetectionTransforms;
using Man.Vision.Data.Records;
using Newtonsoft.Json.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Data.Tests.DetectionTransforms;

public sealed class ResizeByMinMaxSideTests
{
    private static JArray Reference([CallerFilePath] string here = "") =>
        JArray.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(here)!, "Fixtures", "resize_reference.json")));

    [Fact]
    public void Matches_torchvision_GeneralizedRCNNTransform_resize()
    {
        // Fixtures/make_resize_fixture.py ran torchvision 0.14's GeneralizedRCNNTransform.resize on these inputs.
        foreach (JObject c in Reference())
        {
            using var scope = NewDisposeScope();
            int h = c.Value<int>("h"), w = c.Value<int>("w");
            var ch = arange(3).view(3, 1, 1);
            var y = arange(h).view(1, h, 1);
            var x = arange(w).view(1, 1, w);
            var img = ((31 * ch + 7 * y + 13 * x).remainder(255)).to(ScalarType.Float32) / 255f;
            var i = arange(2).view(2, 1, 1);
            var masks = (x + 2 * y + i).remainder(3).eq(0).to(ScalarType.Byte);
            var boxes = tensor(new float[] { 1.5f, 2.0f, 20.25f, 17.0f, 0, 0, w, h }, [2, 4]);
            var target = new DetectionTarget(boxes, tensor(new long[] { 1, 2 }), masks, zeros(2, ScalarType.Int64), ones(2), zeros(2, ScalarType.Bool), 0);
            var record = new ImageRecord(0, "mem", w, h, []);
            var resize = new ResizeByMinMaxSide([c.Value<int>("min_size")], c.Value<int>("max_size"));
            var outS = resize.Apply(new DetectionSample(img, target, record), new Random(0));

            Assert.Equal((c.Value<int>("out_h"), c.Value<int>("out_w")), (outS.Height, outS.Width));
            Assert.Equal(c.Value<double>("image_sum"), outS.Image.to(ScalarType.Float64).sum().item<double>(), 2);
            var row = outS.Image[0, 0, ..8].data<float>().ToArray();
            var refRow = c["image_first_row"]!.Values<float>().ToArray();
            for (int k = 0; k < 8; k++) Assert.Equal(refRow[k], row[k], 5);
            Assert.Equal(c.Value<float>("image_center"), outS.Image[1, outS.Height / 2, outS.Width / 2].item<float>(), 5);
            var refBoxes = c["boxes"]!.SelectMany(b => b.Values<float>()).ToArray();
            Assert.Equal(refBoxes, outS.Target.Boxes.data<float>().ToArray());
            Assert.Equal(c["mask_sums"]!.Values<long>().ToArray(), outS.Target.Masks!.to(ScalarType.Int64).flatten(1).sum(1).data<long>().ToArray());
            Assert.Equal(c["mask_row3"]!.Values<byte>().ToArray(), outS.Target.Masks![1, 3, ..16].data<byte>().ToArray());
        }
    }

    [Fact]
    public void Output_size_is_the_torchvision_rule()
    {
        var r = new ResizeByMinMaxSide([800], 1333);
        // torchvision 0.14 GeneralizedRCNNTransform(800, 1333).resize output shapes, float32 rounding included.
        Assert.Equal((800, 1066), r.OutputSize(480, 640, 800));   // min side rules
        Assert.Equal((749, 1333), r.OutputSize(360, 640, 800));   // max side caps
        Assert.Equal((1199, 799), r.OutputSize(640, 427, 800));
    }
}
