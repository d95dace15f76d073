using Man.Testing;
using System.Buffers.Binary;
using System.IO.Compression;
using Man.Vision.Data.Classification;
using Man.Vision.Data.Diagnostics;

namespace Man.Vision.Data.Tests.Classification;

public sealed class FashionMnistTests
{
    private static byte[] Idx(int magic, int[] dims, byte[] data)
    {
        var b = new byte[4 + 4 * dims.Length + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(b, magic);
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4 + 4 * d), dims[d]);
        data.CopyTo(b, 4 + 4 * dims.Length);
        return b;
    }

    private static void Gz(string path, byte[] data)
    {
        using var f = File.Create(path);
        using var gz = new GZipStream(f, CompressionLevel.Fastest);
        gz.Write(data);
    }

    private static void WriteSet(TempDir dir, int n, bool gzip, byte[]? labels = null)
    {
        var pixels = Enumerable.Range(0, n * 4 * 3).Select(i => (byte)i).ToArray();
        labels ??= Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray();
        foreach (var prefix in new[] { "train", "t10k" })
        {
            var img = Idx(IdxFile.ImagesMagic, [n, 4, 3], pixels);
            var lab = Idx(IdxFile.LabelsMagic, [n], labels);
            if (gzip) { Gz(dir.File($"{prefix}-images-idx3-ubyte.gz"), img); Gz(dir.File($"{prefix}-labels-idx1-ubyte.gz"), lab); }
            else { File.WriteAllBytes(dir.File($"{prefix}-images-idx3-ubyte"), img); File.WriteAllBytes(dir.File($"{prefix}-labels-idx1-ubyte"), lab); }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_plain_and_gzipped_idx_files(bool gzip)
    {
        using var dir = new TempDir();
        WriteSet(dir, 5, gzip);
        var splits = ClassificationDataSets.Open(dir.Path);
        var train = Assert.IsType<InMemoryImageSet>(splits.Train);
        Assert.Equal(5, train.Count);
        Assert.Equal((3, 4), train.FixedSize); // 4 rows × 3 columns
        Assert.Equal(1, train.Channels);
        var img = train.Load(1);
        Assert.Equal(Enumerable.Range(12, 12).Select(i => (byte)i), img.Pixels);
        Assert.Equal(1, img.Label);
        Assert.Equal("Trouser", train.Classes[1]);
    }

    [Fact]
    public void Wrong_magic_truncation_and_bad_labels_are_clear_errors()
    {
        using var dir = new TempDir();
        WriteSet(dir, 5, gzip: false);
        string labels = dir.File("train-labels-idx1-ubyte");
        var bytes = File.ReadAllBytes(labels);
        bytes[3] = 0x03;
        File.WriteAllBytes(labels, bytes);
        var e1 = Assert.Throws<BadInputException>(() => FashionMnist.Load(dir.Path));
        Assert.Contains("train-labels-idx1-ubyte", e1.Message);
        Assert.Contains("magic", e1.Message);

        using var dir2 = new TempDir();
        WriteSet(dir2, 5, gzip: false);
        string images = dir2.File("t10k-images-idx3-ubyte");
        File.WriteAllBytes(images, File.ReadAllBytes(images)[..30]);
        var e2 = Assert.Throws<BadInputException>(() => FashionMnist.Load(dir2.Path));
        Assert.Contains("t10k-images-idx3-ubyte", e2.Message);
        Assert.Contains("truncated", e2.Message);

        using var dir3 = new TempDir();
        WriteSet(dir3, 3, gzip: true, labels: [1, 12, 3]);
        var e3 = Assert.Throws<BadInputException>(() => FashionMnist.Load(dir3.Path));
        Assert.Contains("label 12", e3.Message);
    }

    [Fact]
    public void Installed_fashion_mnist_has_60000_and_10000_images()
    {
        if (!FashionMnist.IsIdxDirectory(FashionMnist.DebianDirectory))
        {
            Assert.False(Man.Testing.SharedData.InCi, $"{FashionMnist.DebianDirectory} is missing under CI: apt install dataset-fashion-mnist.");
            return;
        }
        var splits = ClassificationDataSets.Open("fashion-mnist");
        var train = (InMemoryImageSet)splits.Train;
        Assert.Equal(60_000, train.Count);
        Assert.Equal(10_000, splits.Test!.Count);
        Assert.Equal((28, 28), train.FixedSize);
        var counts = new int[10];
        foreach (int l in train.Labels) counts[l]++;
        Assert.Equal(Enumerable.Repeat(6000, 10), counts);
        Assert.Equal(9, train.LabelOf(0)); // the first training item is an ankle boot
    }
}
