using Man.Vision.Classification.Training;
using Man.Vision.Data.Classification;
using Man.Vision.Data.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Classification.Data;

/// <summary>
/// Classification data sets read from files (CIFAR-10 archive, ImageFolder, Fashion-MNIST) as batches: the images
/// are decoded once (in parallel) into one byte tensor [N, 3, H, W]; grayscale is replicated to 3 channels, and
/// ImageFolder images of differing sizes are resized (bilinear) to a common square side.
/// </summary>
public static class FileData
{
    /// <summary>Per-channel mean and std of CIFAR-10 (the usual normalisation); used for every file data set.</summary>
    public static readonly float[] Mean = [0.4914f, 0.4822f, 0.4465f], Std = [0.2470f, 0.2435f, 0.2616f];

    /// <summary>Side that ImageFolder images of differing sizes are resized to.</summary>
    public const int ImageFolderSide = 64;

    /// <summary>Opens a file data set (see <see cref="ClassificationDataSets.Open"/>) as train and test batches.</summary>
    public static (IClassificationBatches Train, IClassificationBatches? Test) Open(string spec, int batchSize, long seed, int trainSize, int workers, int testSize = 0)
    {
        var log = new BadInputLog();
        var splits = ClassificationDataSets.Open(spec, log: log);
        var (xtr, ytr) = ToTensors(splits.Train, trainSize, workers, log);
        var train = new TensorClassificationBatches(xtr, ytr, splits.Train.Classes, batchSize, train: true, seed, Mean, Std,
            padding: xtr.shape[2] <= 64 ? 4 : 0);
        IClassificationBatches? test = null;
        if (splits.Test is not null)
        {
            var (xte, yte) = ToTensors(splits.Test, testSize, workers, log);
            test = new TensorClassificationBatches(xte, yte, splits.Test.Classes, batchSize, train: false, seed, Mean, Std);
        }
        return (train, test);
    }

    /// <summary>Decodes a data set into images [N, 3, H, W] (bytes) and labels [N] (int64).</summary>
    public static (Tensor Images, Tensor Labels) ToTensors(IClassificationDataSet set, int limit, int workers, BadInputLog? log = null)
    {
        int n = limit > 0 ? Math.Min(limit, set.Count) : set.Count;
        if (n == 0) throw new ArgumentException($"{set.Name} has no images.");
        // A subset takes evenly spaced images, so that sets stored class by class keep every class.
        var pick = Enumerable.Range(0, n).Select(i => (int)((long)i * set.Count / n)).ToArray();
        if (set is InMemoryImageSet mem)
        {
            var pixels = new byte[(long)n * mem.ImageBytes];
            for (int i = 0; i < n; i++) mem.ImageSpan(pick[i]).CopyTo(pixels.AsSpan((int)((long)i * mem.ImageBytes), mem.ImageBytes));
            // HWC bytes of every image → [N, H, W, C] → [N, C, H, W], in one copy.
            using var all = torch.tensor(pixels, [n, mem.Height, mem.Width, mem.Channels], ScalarType.Byte);
            using var chw = all.permute(0, 3, 1, 2);
            var images = mem.Channels == 1 ? chw.expand(n, 3, mem.Height, mem.Width).contiguous() : chw.contiguous();
            var labels = torch.tensor(pick.Select(i => (long)mem.LabelOf(i)).ToArray(), ScalarType.Int64);
            return (images, labels);
        }
        int side = set.FixedSize is { } fs && fs.Width == fs.Height ? fs.Width : ImageFolderSide;
        var buffer = new byte[(long)n * 3 * side * side];
        var labelArray = new long[n];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, workers) }, i =>
        {
            var img = set.Load(pick[i], log);
            labelArray[i] = img.Label;
            using var scope = NewDisposeScope();
            var t = torch.tensor(img.Pixels, [img.Height, img.Width, img.Channels], ScalarType.Byte).permute(2, 0, 1);
            if (img.Channels == 1) t = t.expand(3, img.Height, img.Width);
            if (img.Width != side || img.Height != side)
                t = nn.functional.interpolate(t.unsqueeze(0).to(ScalarType.Float32), [side, side], mode: InterpolationMode.Bilinear, align_corners: false)
                    .squeeze(0).round().clamp(0, 255).to(ScalarType.Byte);
            var bytes = t.contiguous().data<byte>().ToArray();
            Array.Copy(bytes, 0, buffer, (long)i * 3 * side * side, bytes.Length);
        });
        return (torch.tensor(buffer, [n, 3, side, side], ScalarType.Byte), torch.tensor(labelArray, ScalarType.Int64));
    }
}
