using Man.Testing;
using Newtonsoft.Json.Linq;

namespace Man.Cli.Tests;

public sealed class DataBenchmarkTests
{
    [Fact]
    public void Bench_data_with_a_missing_folder_fails_naming_it()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"no-camvid-{Guid.NewGuid():N}");
        var (code, _, err) = DataTestCli.Run("bench", "data", "--camvid", missing);
        Assert.Equal(2, code);
        Assert.Contains(DataTestCli.Squeeze(missing + ": is not a CamVid root (train.txt is missing)"), DataTestCli.Squeeze(err));
    }

    [SharedDataFact]
    public void Bench_data_on_tiny_coco_measures_throughput_and_consumer_wait()
    {
        string json = Path.Combine(Path.GetTempPath(), $"bench-data-{Guid.NewGuid():N}.json");
        try
        {
            var (code, output, err) = DataTestCli.Run("bench", "data", "--datasets", "coco", "--coco", SharedData.Path("tiny-coco/instances_train2017_small.json"),
                "--images", "8", "--workers", "1", "--train-steps", "2", "--step-ms", "20", "--json", json);
            Assert.True(code == 0, err);
            Assert.Contains("torch intra-op threads set to 1", output);
            var doc = JObject.Parse(File.ReadAllText(json));
            var run = Assert.Single(doc["throughput"]!);
            Assert.Equal(1, (int)run["workers"]!);
            Assert.True((int)run["images"]! >= 8);
            Assert.True((double)run["images_per_second"]! > 0);
            var step = Assert.Single(doc["training_step_vs_data"]!);
            Assert.Equal(2, (int)step["steps"]!);
            Assert.True((bool)step["simulated"]!);
            Assert.InRange((double)step["median_step_ms"]!, 19, 2000);
            Assert.True((double)step["loader_ms_per_batch"]! > 0);
        }
        finally
        {
            File.Delete(json);
        }
    }
}
