using Newtonsoft.Json.Linq;

namespace Man.Cli.Tests;

public sealed class ClassifyCliTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("man-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Unknown_arch_method_and_too_large_K_exit_with_a_clear_message()
    {
        var (code, _, err) = CliRunner.Run("train", "classify", "--arch", "resnet33", "--out", dir, "--max-batches", "1");
        Assert.Equal(2, code);
        Assert.Contains("Unknown architecture 'resnet33'", err);
        Assert.Contains("resnet32", err);

        (code, _, err) = CliRunner.Run("train", "classify", "--method", "dgl2", "--out", dir);
        Assert.Equal(2, code);
        Assert.Contains("Unknown method 'dgl2'", err);

        (code, _, err) = CliRunner.Run("train", "classify", "--method", "manpp", "--k", "40", "--out", dir, "--train-size", "64");
        Assert.Equal(2, code);
        Assert.Contains("K = 40 is larger than the number of units", err);
    }

    [Fact]
    public void Missing_or_empty_data_folder_and_corrupt_archive_are_errors_naming_the_path()
    {
        string missing = Path.Combine(dir, "nope");
        var (code, _, err) = CliRunner.Run("train", "classify", "--data", "imagefolder:" + missing, "--out", Path.Combine(dir, "r1"));
        Assert.Equal(2, code);
        Assert.Contains("nope", err);

        string empty = Directory.CreateDirectory(Path.Combine(dir, "empty")).FullName;
        (code, _, err) = CliRunner.Run("train", "classify", "--data", "imagefolder:" + empty, "--out", Path.Combine(dir, "r2"));
        Assert.Equal(2, code);
        Assert.Contains("empty", err);

        string archive = Path.Combine(dir, "broken.tar.gz");
        File.WriteAllBytes(archive, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]);
        (code, _, err) = CliRunner.Run("train", "classify", "--data", "cifar10:" + archive, "--out", Path.Combine(dir, "r3"));
        Assert.Equal(2, code);
        Assert.Contains("broken.tar.gz", err);
    }

    [Fact]
    public void Nan_loss_stops_with_step_and_block_named_and_metrics_kept()
    {
        string run = Path.Combine(dir, "nan");
        var (code, _, err) = CliRunner.Run("train", "classify", "--data", "synth", "--train-size", "256", "--batch-size", "64",
            "--method", "greedy", "--k", "2", "--lr", "1e12", "--epochs", "2", "--out", run, "--threads", "1");
        Assert.Equal(3, code);
        Assert.Matches("Loss '.*' of block \\d is (NaN|∞|-∞|Infinity) at step \\d+", err);
        var metrics = JObject.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        Assert.True(metrics.Value<bool>("stopped_on_non_finite_loss"));
    }

    [Fact]
    public void Train_then_eval_from_the_checkpoint_reports_the_same_accuracy()
    {
        string run = Path.Combine(dir, "ok");
        var (code, output, err) = CliRunner.Run("train", "classify", "--data", "synth", "--train-size", "256", "--batch-size", "64",
            "--arch", "resnet32", "--method", "manpp", "--k", "4", "--epochs", "1", "--lr", "0.05", "--out", run, "--threads", "1");
        Assert.True(code == 0, err);
        Assert.Contains("epoch 1/1", output);
        var metrics = JObject.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        var epoch = (JObject)metrics["epochs"]![0]!;
        Assert.Equal(4, epoch["TrainLossPerBlock"]!.Count());
        Assert.Equal(3, epoch["S"]!.Count());
        Assert.True(epoch.Value<double>("PeakRssMiB") > 0);
        double acc = epoch.Value<double>("TestAccuracy");

        string json = Path.Combine(dir, "eval.json");
        (code, output, err) = CliRunner.Run("eval", "classify", "--checkpoint", Path.Combine(run, "last.ckpt"), "--data", "synth", "--json", json, "--threads", "1");
        Assert.True(code == 0, err);
        Assert.Equal(acc, JObject.Parse(File.ReadAllText(json)).Value<double>("accuracy"), 6);

        // report reads the run's metrics.json: its final top-1 is the epoch's test accuracy.
        string report = Path.Combine(dir, "report.json");
        (code, _, err) = CliRunner.Run("report", run, "--json", report);
        Assert.True(code == 0, err);
        var group = JObject.Parse(File.ReadAllText(report))["groups"]![0]!;
        Assert.Equal("manpp K=4", group.Value<string>("label"));
        Assert.Equal(acc, group["runs"]![0]!.Value<double>("final"), 9);

        File.WriteAllText(Path.Combine(dir, "foreign.ckpt"), "not a checkpoint");
        (code, _, err) = CliRunner.Run("eval", "classify", "--checkpoint", Path.Combine(dir, "foreign.ckpt"));
        Assert.Equal(2, code);
        Assert.Contains("not a Man.Vision checkpoint", err);
    }
}
