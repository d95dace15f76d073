using System.Diagnostics;
using Man.Testing;
using Man.Vision.Data.Classification;
using Man.Vision.Data.Diagnostics;
using Xunit.Abstractions;

namespace Man.Vision.Data.Tests.Classification;

public sealed class Cifar10Tests(ITestOutputHelper output)
{
    [SharedDataFact]
    public void Real_archive_has_the_torchvision_splits_classes_and_counts()
    {
        var splits = CifarFixture.Splits;
        output.WriteLine($"decode + cache write: {CifarFixture.DecodeTime.TotalSeconds:F2} s");
        var train = Assert.IsType<InMemoryImageSet>(splits.Train);
        var test = Assert.IsType<InMemoryImageSet>(splits.Test);
        Assert.Equal(50_000, train.Count);
        Assert.Equal(10_000, test.Count);
        string[] expected = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];
        Assert.Equal(expected, train.Classes);
        Assert.Equal(expected, test.Classes);
        Assert.Equal(Enumerable.Repeat(5000, 10), CountLabels(train));
        Assert.Equal(Enumerable.Repeat(1000, 10), CountLabels(test));
        Assert.Equal((32, 32), train.FixedSize);
        Assert.Equal(3, train.Channels);
        Assert.EndsWith("!cifar10/train/airplane/", train.SourceOf(0)[..(train.SourceOf(0).LastIndexOf('/') + 1)]);
        Assert.Contains("/truck/", test.SourceOf(9999));
        // Decoded pixels are real images: mean intensity near CIFAR-10's known 0.47 and a sensible spread.
        double mean = 0;
        foreach (byte b in train.Pixels) mean += b;
        mean /= train.Pixels.Length * 255.0;
        Assert.InRange(mean, 0.46, 0.49);
    }

    [SharedDataFact]
    public void The_cache_reloads_the_same_arrays_fast()
    {
        var first = (InMemoryImageSet)CifarFixture.Splits.Train;
        var sw = Stopwatch.StartNew();
        var again = Cifar10.Load(SharedData.Path("cifar10-jpeg.tar.gz"), CifarFixture.CacheDir);
        output.WriteLine($"from cache: {sw.Elapsed.TotalSeconds:F2} s");
        var train = (InMemoryImageSet)again.Train;
        Assert.True(first.Pixels.SequenceEqual(train.Pixels));
        Assert.True(first.Labels.SequenceEqual(train.Labels));
        Assert.Equal(first.SourceOf(123), train.SourceOf(123));
        Assert.Single(Directory.GetDirectories(CifarFixture.CacheDir)); // no temporary folders left
        // The cached arrays decode identically to a direct decode of one entry.
        var entry = train.Load(49_999);
        Assert.Equal(9, entry.Label);
    }

    [SharedDataFact]
    public void A_truncated_archive_gives_a_clear_error_naming_the_file_and_the_entry()
    {
        using var dir = new TempDir();
        string src = SharedData.Path("cifar10-jpeg.tar.gz");
        string cut = dir.File("cifar-cut.tar.gz");
        var bytes = File.ReadAllBytes(src);
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 3)]);
        var e = Assert.ThrowsAny<BadInputException>(() => Cifar10.Load(cut));
        output.WriteLine(e.Message);
        Assert.Contains("cifar-cut.tar.gz", e.Message);
        Assert.Contains("cifar10/", e.Message); // the entry it broke after
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void A_missing_or_non_gzip_archive_gives_a_clear_error()
    {
        using var dir = new TempDir();
        var e1 = Assert.Throws<BadInputException>(() => Cifar10.Load(dir.File("nope.tar.gz")));
        Assert.Contains("nope.tar.gz", e1.Message);
        Assert.Contains("does not exist", e1.Message);
        string junk = dir.File("junk.tar.gz");
        File.WriteAllText(junk, "this is not a gzip file at all, just some text that goes on for a while");
        var e2 = Assert.Throws<BadInputException>(() => Cifar10.Load(junk));
        Assert.Contains("junk.tar.gz", e2.Message);
        Assert.Equal("corrupt-archive", e2.Kind);
    }

    private static int[] CountLabels(InMemoryImageSet set)
    {
        var counts = new int[set.Classes.Count];
        foreach (int l in set.Labels) counts[l]++;
        return counts;
    }
}

public sealed class Cifar10PilAgreementTests(ITestOutputHelper output)
{
    [SharedDataFact]
    public void Decoded_entries_agree_with_PIL()
    {
        var json = Newtonsoft.Json.Linq.JObject.Parse(File.ReadAllText(TestFixtures.Path("cifar_pil.json")));
        var splits = CifarFixture.Splits;
        foreach (var img in json["images"]!)
        {
            string entry = img.Value<string>("entry")!;
            var expected = Convert.FromBase64String(img.Value<string>("hwc_base64")!);
            var set = (InMemoryImageSet)(entry.Contains("/train/") ? splits.Train : splits.Test!);
            int index = Enumerable.Range(0, set.Count).First(i => set.SourceOf(i).EndsWith("!" + entry, StringComparison.Ordinal));
            var actual = set.ImageSpan(index);
            int maxDiff = 0;
            double meanDiff = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                int d = Math.Abs(expected[i] - actual[i]);
                maxDiff = Math.Max(maxDiff, d);
                meanDiff += d;
            }
            meanDiff /= expected.Length;
            output.WriteLine($"{entry}: max |SkiaSharp - PIL| = {maxDiff}, mean = {meanDiff:F3}");
            Assert.True(maxDiff == 0, $"{entry}: max diff {maxDiff}, mean {meanDiff:F3}");
        }
    }
}
