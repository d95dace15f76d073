using Man.Testing;
using Man.Vision.Data.Images;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Data.Tests.Images;

public sealed class ImageEncoderTests
{
    private static RgbImage Gradient(int w, int h)
    {
        var p = new byte[w * h * 3];
        for (int i = 0; i < p.Length; i++) p[i] = (byte)(i * 7 % 256);
        return new RgbImage(w, h, p);
    }

    [Fact]
    public void Png_round_trip_is_exact_and_save_uses_the_extension()
    {
        using var dir = new TempDir();
        var img = Gradient(7, 5);
        string path = dir.File("sub/out.png");
        ImageEncoder.Save(img, path);
        var back = ImageDecoder.Decode(path);
        Assert.Equal(ImageFormat.Png, back.Original!.Format);
        Assert.Equal(img.Pixels, back.Pixels);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));
        Assert.Throws<ArgumentException>(() => ImageEncoder.Save(img, dir.File("out.tga")));
    }

    [Fact]
    public void Jpeg_encodes_as_jpeg()
    {
        var bytes = ImageEncoder.Encode(Gradient(8, 8), ImageFormat.Jpeg, 90);
        Assert.Equal(ImageFormat.Jpeg, ImageDecoder.SniffFormat(bytes));
        Assert.Equal((8, 8), (ImageDecoder.ReadHeader(bytes, "m.jpg").Width, ImageDecoder.ReadHeader(bytes, "m.jpg").Height));
    }

    [Fact]
    public void ToTensor_is_chw_over_255_and_FromTensor_inverts_it()
    {
        var img = Gradient(4, 3);
        using var scope = torch.NewDisposeScope();
        var t = ImageTensors.ToTensor(img);
        Assert.Equal(new long[] { 3, 3, 4 }, t.shape);
        Assert.Equal(ScalarType.Float32, t.dtype);
        var values = t.data<float>().ToArray();
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 4; x++)
                    Assert.Equal(img.Pixels[(y * 4 + x) * 3 + c] / 255f, values[(c * 3 + y) * 4 + x], 6);
        var bt = ImageTensors.ToByteTensor(img);
        Assert.Equal(t.mul(255f).round().to(ScalarType.Byte).data<byte>().ToArray(), bt.data<byte>().ToArray());
        Assert.Equal(img.Pixels, ImageTensors.FromTensor(t).Pixels);
        Assert.Equal(img.Pixels, ImageTensors.FromTensor(bt).Pixels);
    }
}
