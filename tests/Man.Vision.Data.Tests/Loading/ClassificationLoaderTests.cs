using Man.Testing;
using Man.Vision.Data.Classification;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Images;
using Man.Vision.Data.Loading;
using Man.Vision.Data.Tests.Classification;
using Man.Vision.Data.Transforms;
using Man.Vision.Data.Tests.Transforms;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Man.Vision.Data.Tests.Loading;

public sealed class ClassificationLoaderTests(ITestOutputHelper output)
{
    /// <summary>n images of 4×3 RGB whose pixels encode the index: value = (index·7 + position) mod 256.</summary>
    private static InMemoryImageSet Synthetic(int n, int channels = 3)
    {
        int bytes = 4 * 3 * channels;
        var pixels = new byte[n * bytes];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < bytes; k++) pixels[i * bytes + k] = (byte)((i * 7 + k) % 256);
        var labels = Enumerable.Range(0, n).Select(i => i % 3).ToArray();
        return new InMemoryImageSet("synthetic", ["a", "b", "c"], pixels, labels, 4, 3, channels, "mem");
    }

    private static float Expected(int index, int c, int y, int x, int channels = 3) => (byte)((index * 7 + (y * 4 + x) * channels + c) % 256) / 255f;

    [Fact]
    public void Batches_hold_the_images_and_labels_of_their_indices()
    {
        var data = Synthetic(23);
        var loader = ClassificationLoader.Create(data, new ClassificationTransform(), new LoaderOptions { BatchSize = 5, Shuffle = true, Seed = 1, Workers = 2 });
        long before = torch.Tensor.TotalCount;
        var seen = new List<int>();
        foreach (var b in loader.Epoch(0))
        {
            using (b)
            {
                Assert.Equal(ScalarType.Float32, b.Images.dtype);
                Assert.Equal(ScalarType.Int64, b.Labels.dtype);
                Assert.Equal(new long[] { b.Count, 3, 3, 4 }, b.Images.shape);
                var img = b.Images.data<float>().ToArray();
                var lab = b.Labels.data<long>().ToArray();
                for (int i = 0; i < b.Count; i++)
                {
                    int idx = b.Indices[i];
                    Assert.Equal(idx % 3, lab[i]);
                    for (int c = 0; c < 3; c++)
                        for (int y = 0; y < 3; y++)
                            for (int x = 0; x < 4; x++)
                                Assert.Equal(Expected(idx, c, y, x), img[((i * 3 + c) * 3 + y) * 4 + x]);
                }
                seen.AddRange(b.Indices);
            }
        }
        Assert.Equal(Enumerable.Range(0, 23), seen.Order());
        Assert.True(torch.Tensor.TotalCount <= before, $"{torch.Tensor.TotalCount - before} tensors leaked");
    }

    [Fact]
    public void Same_seed_same_augmented_batches_different_seed_different()
    {
        var data = Synthetic(40);
        var transform = new ClassificationTransform
        {
            Augment = new BatchCompose(new RandomCrop(4, 1), new RandomHorizontalFlip()),
            Normalize = new Normalize([0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]),
        };
        float[] Run(long seed, int workers, int epoch)
        {
            var loader = ClassificationLoader.Create(data, transform, new LoaderOptions { BatchSize = 8, Shuffle = true, Seed = seed, Workers = workers });
            var all = new List<float>();
            foreach (var b in loader.Epoch(epoch)) using (b) all.AddRange(b.Images.data<float>().ToArray());
            return [.. all];
        }
        var a = Run(5, 1, 0);
        Assert.Equal(a, Run(5, 2, 0));
        Assert.NotEqual(a, Run(6, 1, 0));
        Assert.NotEqual(a, Run(5, 1, 1));
    }

    [Fact]
    public void Grayscale_sets_can_be_replicated_to_three_channels()
    {
        var data = Synthetic(4, channels: 1);
        var loader = ClassificationLoader.Create(data, new ClassificationTransform { Channels = 3 }, new LoaderOptions { BatchSize = 4 });
        using var b = loader.Epoch(0).Single();
        Assert.Equal(new long[] { 4, 3, 3, 4 }, b.Images.shape);
        Assert.True(b.Images[.., 0].IsEqual(b.Images[.., 2]));
        Assert.Equal(Expected(2, 0, 1, 3, channels: 1), b.Images[2, 1, 1, 3].item<float>());
    }

    [Fact]
    public void ImageFolder_images_of_different_sizes_are_resized_and_cropped()
    {
        using var dir = new TempDir();
        ImageEncoder.Save(ImageFolderTests.Flat(40, 20, 255, 0, 0), dir.File("red/1.png"));
        ImageEncoder.Save(ImageFolderTests.Flat(16, 30, 0, 255, 0), dir.File("green/1.png"));
        ImageEncoder.Save(ImageFolderTests.Flat(9, 9, 0, 0, 255), dir.File("green/2.png"));
        var data = new ImageFolderDataSet(dir.Path);
        Assert.Throws<ArgumentException>(() => ClassificationLoader.Create(data, new ClassificationTransform(), new LoaderOptions()));
        var loader = ClassificationLoader.Create(data, new ClassificationTransform { Resize = 12, CenterCrop = 10 }, new LoaderOptions { BatchSize = 3 });
        using var b = loader.Epoch(0).Single();
        Assert.Equal(new long[] { 3, 3, 10, 10 }, b.Images.shape);
        Assert.Equal(new long[] { 0, 0, 1 }, b.Labels.data<long>().ToArray()); // green, green, red
        Assert.Equal(1f, b.Images[2, 0].mean().item<float>(), 5);
        Assert.Equal(1f, b.Images[0, 1].mean().item<float>(), 5);
        Assert.Equal(1f, b.Images[1, 2].mean().item<float>(), 5);
    }

    [Fact]
    public void A_bad_image_fails_naming_the_file_or_is_skipped_and_counted()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 4; i++) ImageEncoder.Save(ImageFolderTests.Flat(8, 8, 50, 60, 70), dir.File($"a/{i}.png"));
        File.WriteAllBytes(dir.File("a/2.png"), File.ReadAllBytes(dir.File("a/1.png"))[..40]);
        var data = new ImageFolderDataSet(dir.Path);
        var transform = new ClassificationTransform { CenterCrop = 8 };

        var failing = ClassificationLoader.Create(data, transform, new LoaderOptions { BatchSize = 2, Workers = 2 });
        var e = Assert.ThrowsAny<BadInputException>(() => { foreach (var b in failing.Epoch(0)) b.Dispose(); });
        Assert.Contains("2.png", e.Message);

        var log = new BadInputLog(OnBad.Skip);
        var skipping = ClassificationLoader.Create(data, transform, new LoaderOptions { BatchSize = 2 }, log);
        var got = new List<int>();
        foreach (var b in skipping.Epoch(0)) using (b) got.AddRange(b.Indices);
        Assert.Equal(new[] { 0, 1, 3 }, got);
        Assert.Equal(1, log.SkipCount);
        Assert.Contains("2.png", log.ToString());
        Assert.Equal(1, skipping.LastEpoch!.Skipped);
    }

    [SharedDataFact]
    public void Cifar10_training_batches_are_augmented_and_normalised()
    {
        var train = CifarFixture.Splits.Train;
        (double Mean, double Std, double Seconds) Stats(ClassificationTransform transform)
        {
            var loader = ClassificationLoader.Create(train, transform,
                new LoaderOptions { BatchSize = 128, Shuffle = true, Seed = 0, Workers = 2, DropLast = true });
            Assert.Equal(390, loader.BatchesPerEpoch);
            int n = 0;
            double sum = 0, sumSq = 0;
            long count = 0;
            var sw = System.Diagnostics.Stopwatch.StartNew();
            foreach (var b in loader.Epoch(0))
            {
                using (b)
                {
                    Assert.Equal(new long[] { 128, 3, 32, 32 }, b.Images.shape);
                    sum += b.Images.sum().item<float>();
                    sumSq += b.Images.square().sum().item<float>();
                    count += b.Images.numel();
                }
                if (++n == 40) break;
            }
            double mean = sum / count;
            return (mean, Math.Sqrt(sumSq / count - mean * mean), sw.Elapsed.TotalSeconds);
        }
        var eval = Stats(ClassificationTransform.CifarEval);
        var aug = Stats(ClassificationTransform.CifarTrain);
        output.WriteLine($"eval: mean {eval.Mean:F3} std {eval.Std:F3}; train: mean {aug.Mean:F3} std {aug.Std:F3}; " +
                         $"40 augmented batches of 128 in {aug.Seconds:F2} s ({40 * 128 / aug.Seconds:F0} images/s)");
        // Normalised with the InfoPro CIFAR statistics: about zero mean, unit std.
        Assert.InRange(eval.Mean, -0.05, 0.05);
        Assert.InRange(eval.Std, 0.95, 1.05);
        // Crop with zero padding 4: offsets |s| uniform over 0..4 each way, E|s| = 20/9, so a fraction
        // 1 - (1 - 20/9/32)^2 of the pixels is padding, whose normalised value is -mean/std per channel.
        double padFraction = 1 - Math.Pow(1 - 20.0 / 9 / 32, 2);
        var norm = Normalize.Cifar10;
        double padValue = Enumerable.Range(0, 3).Average(c => -norm.Mean[c] / norm.Std[c]);
        double expected = (1 - padFraction) * eval.Mean + padFraction * padValue;
        Assert.InRange(aug.Mean, expected - 0.03, expected + 0.03);
    }
}
