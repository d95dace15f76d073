using Man.Vision.Detection.Ops;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Ops;

public sealed class BoxOpsTests
{
    [Fact]
    public void ConvertsBetweenFormats()
    {
        using var scope = NewDisposeScope();
        Tensor xyxy = tensor(new float[] { 10, 20, 30, 60 }, [1, 4]);
        Assert.Equal(new float[] { 10, 20, 20, 40 }, BoxOps.Convert(xyxy, BoxFormat.Xyxy, BoxFormat.Xywh).data<float>().ToArray());
        Assert.Equal(new float[] { 20, 40, 20, 40 }, BoxOps.Convert(xyxy, BoxFormat.Xyxy, BoxFormat.Cxcywh).data<float>().ToArray());
        Tensor back = BoxOps.Convert(BoxOps.Convert(xyxy, BoxFormat.Xyxy, BoxFormat.Cxcywh), BoxFormat.Cxcywh, BoxFormat.Xywh);
        Assert.Equal(new float[] { 10, 20, 20, 40 }, back.data<float>().ToArray());
    }

    [Fact]
    public void IouAreaClipAndRemoveSmall()
    {
        using var scope = NewDisposeScope();
        Tensor a = tensor(new float[] { 0, 0, 10, 10, 5, 5, 15, 15 }, [2, 4]);
        Tensor b = tensor(new float[] { 0, 0, 10, 10, 20, 20, 30, 30 }, [2, 4]);
        Assert.Equal(new float[] { 100, 100 }, BoxOps.Area(a).data<float>().ToArray());
        // overlap of a[1] and b[0]: 5×5 = 25, union 175
        Assert.Equal(new float[] { 1, 0, 25f / 175f, 0 }, BoxOps.Iou(a, b).data<float>().ToArray());
        Tensor clipped = BoxOps.ClipToImage(tensor(new float[] { -5, 3, 40, 50 }, [1, 4]), 32, 24);
        Assert.Equal(new float[] { 0, 3, 24, 32 }, clipped.data<float>().ToArray());
        Tensor small = tensor(new float[] { 0, 0, 1, 5, 0, 0, 5, 0.5f, 0, 0, 2, 2 }, [3, 4]);
        Assert.Equal(new long[] { 0, 2 }, BoxOps.RemoveSmall(small, 1.0).data<long>().ToArray());
    }

    [Fact]
    public void BadShapesAreRejected()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => BoxOps.Iou(zeros(3, 5), zeros(2, 4)));
        Assert.Contains("[N, 4]", ex.Message);
    }
}
