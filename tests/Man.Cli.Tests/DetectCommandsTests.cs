using Man.Testing;
using Man.Vision.Data.Images;
using Newtonsoft.Json.Linq;
using Xunit.Abstractions;

namespace Man.Cli.Tests;

public sealed class DetectCommandsTests(ITestOutputHelper output)
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (code, stdout, stderr) = CliRunner.Run(args);
        // Spectre wraps long lines (paths included) at the console width: messages are compared without line breaks.
        return (code, stdout, stderr.Replace("\r", "").Replace("\n", ""));
    }


    [SharedDataFact]
    public void EvalDetectOnAFileWritesPycocotoolsTwelveNumbers()
    {
        string gt = SharedData.Path("tiny-coco/instances_train2017_small.json");
        string dets = SharedData.Fixture("cocoeval/detections.json");
        var expected = JObject.Parse(File.ReadAllText(SharedData.Fixture("cocoeval/expected_stats.json")));
        using var dir = new TempDir("man-cli-detect-gt");
        string json = Path.Combine(dir, "stats.json");
        var (code, stdout, stderr) = Run("eval", "detect", "--gt", gt, "--dets", dets, "--json", json);
        output.WriteLine(stdout + stderr);
        Assert.Equal(0, code);
        Assert.Contains("Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.268", stdout);
        var stats = JObject.Parse(File.ReadAllText(json));
        string[] keys = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"];
        Assert.Equal(keys, stats.Properties().Select(p => p.Name));
        foreach (var key in keys) Assert.Equal(expected.Value<double>(key), stats.Value<double>(key), 12);
    }

    [SharedDataFact]
    public void ABadDetectionsFileFailsWithTheFileNamed()
    {
        string gt = SharedData.Path("tiny-coco/instances_train2017_small.json");
        using var dir = new TempDir("man-cli-detect-bad");
        string unknownImage = Path.Combine(dir, "unknown-image.json");
        File.WriteAllText(unknownImage, """[{"image_id": 987654321, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9}]""");
        var (code, _, stderr) = Run("eval", "detect", "--gt", gt, "--dets", unknownImage);
        output.WriteLine(stderr);
        Assert.NotEqual(0, code);
        Assert.Contains("unknown-image.json", stderr);
        Assert.Contains("987654321", stderr);

        string malformed = Path.Combine(dir, "malformed-box.json");
        var firstImage = JObject.Parse(File.ReadAllText(gt))["images"]![0]!.Value<long>("id");
        File.WriteAllText(malformed, $$"""[{"image_id": {{firstImage}}, "category_id": 1, "bbox": [10, 10, 20], "score": 0.9}]""");
        (code, _, stderr) = Run("eval", "detect", "--gt", gt, "--dets", malformed);
        output.WriteLine(stderr);
        Assert.NotEqual(0, code);
        Assert.Contains("malformed-box.json", stderr);

        (code, _, stderr) = Run("eval", "detect", "--gt", gt, "--dets", Path.Combine(dir, "missing.json"));
        Assert.NotEqual(0, code);
        Assert.Contains("missing.json", stderr);
    }

    [Fact]
    public void TrainEvalAndPredictDetectRunEndToEnd()
    {
        using var dir = new TempDir("man-cli-detect-e2e");
        string cache = Path.Combine(dir, "cache");
        string run = Path.Combine(dir, "run");
        string[] small = ["--threads", "1", "--workers", "1", "--synth-images", "12", "--cache-dir", cache];
        var (code, stdout, stderr) = Run([
            "train", "detect", "--data", "synth", "--backbone", "resnet18", "--method", "manpp", "--k", "2", "--split", "stages",
            "--min-size", "96", "--max-size", "96", "--epochs", "1", "--batch-size", "2", "--max-batches", "2", "--roi-samples", "32",
            "--rpn-post-nms-train", "200", "--rpn-post-nms-test", "50", "--out", run, .. small]);
        output.WriteLine(stdout + stderr);
        Assert.Equal(0, code);
        Assert.True(File.Exists(Path.Combine(run, "last.ckpt")));
        var metrics = JObject.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        Assert.Equal(2, metrics.Value<int>("k"));

        string evalJson = Path.Combine(dir, "eval.json");
        (code, stdout, stderr) = Run(["eval", "detect", "--checkpoint", Path.Combine(run, "last.ckpt"), "--data", "synth", "--json", evalJson, .. small]);
        output.WriteLine(stdout + stderr);
        Assert.Equal(0, code);
        Assert.Contains("Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]", stdout);
        var stats = JObject.Parse(File.ReadAllText(evalJson));
        foreach (var key in new[] { "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl" })
            Assert.NotNull(stats[key]);
        // The evaluation of the checkpoint repeats the training run's own evaluation.
        Assert.Equal(metrics["epochs"]![0]!["Coco"]!.Value<double>("AP"), stats.Value<double>("AP"), 9);

        string images = Directory.GetDirectories(cache).Single();
        var files = Directory.GetFiles(Path.Combine(images, "JPEGImages")).Order().Take(2).ToArray();
        string predictions = Path.Combine(dir, "pred");
        (code, stdout, stderr) = Run(["predict", "detect", "--checkpoint", Path.Combine(run, "last.ckpt"), "--images", .. files, "--out", predictions, "--score", "0", "--threads", "1"]);
        output.WriteLine(stdout + stderr);
        Assert.Equal(0, code);
        var dets = JArray.Parse(File.ReadAllText(Path.Combine(predictions, "detections.json")));
        Assert.NotEmpty(dets);
        long[] ids = files.Select(f => long.Parse(Path.GetFileNameWithoutExtension(f))).ToArray();
        foreach (var d in dets)
        {
            Assert.Contains(d.Value<long>("image_id"), ids);
            Assert.InRange(d.Value<long>("category_id"), 1, 5);
            Assert.Equal(4, d["bbox"]!.Count());
            Assert.InRange(d.Value<double>("score"), 0, 1);
        }
        foreach (var f in files)
        {
            string png = Path.Combine(predictions, Path.GetFileNameWithoutExtension(f) + ".png");
            Assert.True(File.Exists(png), png);
            var drawn = ImageDecoder.Decode(png);
            var original = ImageDecoder.Decode(f);
            Assert.Equal((original.Width, original.Height), (drawn.Width, drawn.Height));
            long id = long.Parse(Path.GetFileNameWithoutExtension(f));
            if (dets.Any(d => d.Value<long>("image_id") == id)) Assert.NotEqual(original.Pixels, drawn.Pixels);
        }
    }

    [Fact]
    public void FrozenBatchNormAnFpnOverC3ToC5AndClippingAreKeptInTheRunAndEvaluationRepeatsIt()
    {
        using var dir = new TempDir("man-cli-detect-frozen");
        string run = Path.Combine(dir, "run");
        string[] small = ["--threads", "1", "--workers", "1", "--synth-images", "8", "--cache-dir", Path.Combine(dir, "cache")];
        var (code, stdout, stderr) = Run([
            "train", "detect", "--data", "synth", "--backbone", "resnet18", "--method", "e2e", "--k", "1", "--backbone-norm", "frozen",
            "--returned-layers", "2,3,4", "--min-size", "64", "--max-size", "64", "--epochs", "1", "--batch-size", "2", "--max-batches", "1", "--roi-samples", "16",
            "--rpn-post-nms-train", "100", "--rpn-post-nms-test", "30", "--clip-grad-norm", "10", "--out", run, .. small]);
        output.WriteLine(stdout + stderr);
        Assert.Equal(0, code);
        Assert.Contains("frozen batch norm", stdout);
        Assert.Contains("FPN over layers 2,3,4", stdout);
        var metrics = JObject.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        Assert.True(metrics.Value<bool>("frozen_batch_norm"));
        Assert.Equal([2, 3, 4], metrics["returned_layers"]!.ToObject<int[]>()!);
        Assert.Equal(10.0, metrics.Value<double>("clip_grad_norm"));
        string evalJson = Path.Combine(dir, "eval.json");
        (code, stdout, stderr) = Run(["eval", "detect", "--checkpoint", Path.Combine(run, "last.ckpt"), "--data", "synth", "--json", evalJson, .. small]);
        output.WriteLine(stdout + stderr);
        Assert.Equal(0, code);
        Assert.Equal(metrics["epochs"]![0]!["Coco"]!.Value<double>("AP"), JObject.Parse(File.ReadAllText(evalJson)).Value<double>("AP"), 9);
        // Frozen batch norm has no statistics to recompute: --precise-bn says so and changes nothing.
        (code, stdout, stderr) = Run(["eval", "detect", "--checkpoint", Path.Combine(run, "last.ckpt"), "--data", "synth", "--precise-bn", "4", "--json", evalJson, .. small]);
        Assert.Equal(0, code);
        Assert.Contains("precise batch norm: the checkpoint has no batch-norm layer", stdout);
        Assert.Equal(metrics["epochs"]![0]!["Coco"]!.Value<double>("AP"), JObject.Parse(File.ReadAllText(evalJson)).Value<double>("AP"), 9);

        (code, _, stderr) = Run(["train", "detect", "--data", "synth", "--backbone", "resnet18", "--backbone-norm", "syncbn", "--out", Path.Combine(dir, "bad"), .. small]);
        Assert.NotEqual(0, code);
        Assert.Contains("--backbone-norm takes frozen or bn (got 'syncbn')", stderr);
        (code, _, stderr) = Run(["train", "detect", "--data", "synth", "--backbone", "resnet18", "--returned-layers", "3,2", "--out", Path.Combine(dir, "bad"), .. small]);
        Assert.NotEqual(0, code);
        Assert.Contains("Returned layers [3,2] must increase", stderr);
        foreach (var task in new[] { "detect", "classify", "segment" })
        {
            (code, _, stderr) = Run(["train", task, "--data", "synth", "--clip-grad-norm", "0", "--out", Path.Combine(dir, "bad"), .. small[..4]]);
            Assert.NotEqual(0, code);
            Assert.Contains("--clip-grad-norm must be a positive finite norm (got 0)", stderr);
        }
    }

    [Fact]
    public void PreciseBatchNormRunsBeforeEveryEvaluationAndEvalRepeatsItOnTheCheckpoint()
    {
        using var dir = new TempDir("man-cli-detect-precise-bn");
        string run = Path.Combine(dir, "run");
        string[] small = ["--threads", "1", "--workers", "1", "--synth-images", "12", "--cache-dir", Path.Combine(dir, "cache")];
        var (code, stdout, stderr) = Run([
            "train", "detect", "--data", "synth", "--backbone", "resnet18", "--method", "e2e", "--k", "1", "--backbone-norm", "bn",
            "--min-size", "64", "--max-size", "64", "--epochs", "1", "--batch-size", "2", "--max-batches", "2", "--roi-samples", "16",
            "--rpn-post-nms-train", "100", "--rpn-post-nms-test", "30", "--precise-bn", "3", "--seed", "5", "--out", run, .. small]);
        output.WriteLine(stdout + stderr);
        Assert.Equal(0, code);
        var metrics = JObject.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        Assert.Equal(3, metrics.Value<int>("precise_bn"));
        Assert.Equal(3, metrics["epochs"]![0]!.Value<int>("PreciseBnBatches"));

        // The checkpoint stores the loader values: the same pass recomputes the same statistics, hence the same AP.
        string evalJson = Path.Combine(dir, "eval.json");
        (code, stdout, stderr) = Run(["eval", "detect", "--checkpoint", Path.Combine(run, "last.ckpt"), "--data", "synth", "--precise-bn", "3", "--json", evalJson, .. small]);
        output.WriteLine(stdout + stderr);
        Assert.Equal(0, code);
        Assert.Contains("precise batch norm: 20 layers recomputed over 3 training batches of 2", stdout);
        var stats = JObject.Parse(File.ReadAllText(evalJson));
        Assert.Equal(metrics["epochs"]![0]!["Coco"]!.Value<double>("AP"), stats.Value<double>("AP"), 9);
        Assert.Equal(20, stats["precise_bn"]!.Value<int>("layers"));
        Assert.Equal(2, stats["precise_bn"]!.Value<int>("batch_size"));

        (code, _, stderr) = Run(["eval", "detect", "--checkpoint", Path.Combine(run, "last.ckpt"), "--data", "synth", "--precise-bn", "-1", .. small]);
        Assert.NotEqual(0, code);
        Assert.Contains("--precise-bn must be 0 (off) or a number of batches (got -1)", stderr);
        (code, _, stderr) = Run(["train", "detect", "--data", "synth", "--precise-bn", "-2", "--out", Path.Combine(dir, "bad"), .. small]);
        Assert.NotEqual(0, code);
        Assert.Contains("--precise-bn must be 0 (off) or a number of batches (got -2)", stderr);
        (code, _, stderr) = Run(["eval", "detect", "--gt", "a.json", "--dets", "b.json", "--precise-bn", "3"]);
        Assert.NotEqual(0, code);
        Assert.Contains("a detections file has none", stderr);
    }

    [Fact]
    public void AnUnknownDataSetListsTheValidOnes()
    {
        var (code, _, stderr) = Run("train", "detect", "--data", "pascal:/nowhere", "--out", Path.Combine(Path.GetTempPath(), "unused-run"), "--backbone", "resnet18");
        Assert.NotEqual(0, code);
        Assert.Contains("pascal:/nowhere", stderr);
        Assert.Contains("coco:DIR", stderr);
        Assert.Contains("voc:DIR", stderr);
    }

    [Fact]
    public void AnUnknownAuxiliaryHeadNamesTheValidOnes()
    {
        var (code, _, stderr) = Run("train", "detect", "--data", "synth", "--aux-head", "retina", "--out", Path.Combine(Path.GetTempPath(), "unused-run"), "--backbone", "resnet18");
        Assert.NotEqual(0, code);
        Assert.Contains("Unknown auxiliary detection head 'retina'", stderr);
        Assert.Contains("dense", stderr);
        Assert.Contains("rcnn", stderr);
        (code, _, stderr) = Run("train", "detect", "--data", "synth", "--aux-min-stride", "0", "--out", Path.Combine(Path.GetTempPath(), "unused-run"), "--backbone", "resnet18");
        Assert.NotEqual(0, code);
        Assert.Contains("--aux-min-stride must be positive (got 0)", stderr);
    }
}
