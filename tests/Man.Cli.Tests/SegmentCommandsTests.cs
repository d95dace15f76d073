using Man.Vision.Data.Images;
using Man.Vision.Segmentation.IO;
using Man.Vision.Segmentation.Training;
using Newtonsoft.Json.Linq;

namespace Man.Cli.Tests;

/// <summary>
/// <c>man-vision train/eval/predict segment</c> in-process: folder evaluation against hand-computed metrics, the
/// train → eval → predict round trip on tiny synthetic data, and bad input that must fail naming the file.
/// </summary>
public sealed class SegmentCommandsTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "man-cli-seg-" + Guid.NewGuid().ToString("N"));

    public SegmentCommandsTests() => Directory.CreateDirectory(dir);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>Runs the CLI; returns the exit code and what it wrote to standard error.</summary>
    private static (int Code, string Error) Run(params string[] args)
    {
        var (code, _, error) = CliRunner.Run(args);
        return (code, error);
    }

    /// <summary>Asserts that a (possibly line-wrapped) error message names <paramref name="file"/>.</summary>
    private static void AssertNames(string error, string file)
    {
        static string Squeeze(string s) => string.Concat(s.Where(c => !char.IsWhiteSpace(c)));
        Assert.True(Squeeze(error).Contains(Squeeze(file), StringComparison.Ordinal), $"the error does not name {file}:\n{error}");
    }

    private string Folder(string name) => Directory.CreateDirectory(Path.Combine(dir, name)).FullName;

    [Fact]
    public void Eval_pred_gt_gives_the_hand_computed_metrics()
    {
        string pred = Folder("pred"), gt = Folder("gt");
        // a: 3×2, b: 2×2; 255 = ignored (the predictions there do not count).
        LabelPng.Write(Path.Combine(gt, "a.png"), new ClassMap(3, 2, [0, 0, 1, 1, 2, 255]));
        LabelPng.Write(Path.Combine(pred, "a.png"), new ClassMap(3, 2, [0, 1, 1, 1, 2, 0]));
        LabelPng.Write(Path.Combine(gt, "b.png"), new ClassMap(2, 2, [2, 2, 0, 255]));
        LabelPng.Write(Path.Combine(pred, "b.png"), new ClassMap(2, 2, [2, 0, 0, 1]));
        string json = Path.Combine(dir, "out.json");
        var (code, error) = Run("eval", "segment", "--pred", pred, "--gt", gt, "--num-classes", "3", "--ignore-index", "255",
            "--class-names", "sky,road,car", "--json", json);
        Assert.True(code == 0, error);
        // (label, pred) pairs: (0,0) (0,1) (1,1) (1,1) (2,2) | (2,2) (2,0) (0,0).
        // sky: I 2, label 3, pred 3 → IoU 2/4; road: I 2, label 2, pred 3 → 2/3; car: I 2, label 3, pred 2 → 2/3.
        var doc = JObject.Parse(File.ReadAllText(json));
        Assert.Equal((50.0 + 200.0 / 3 + 200.0 / 3) / 3, doc.Value<double>("mIoU"), 9);
        Assert.Equal(75.0, doc.Value<double>("aAcc"), 9);
        Assert.Equal((200.0 / 3 + 100.0 + 200.0 / 3) / 3, doc.Value<double>("mAcc"), 9);
        Assert.Equal(50.0, doc["IoU"]!.Value<double>("sky"), 9);
        Assert.Equal(200.0 / 3, doc["IoU"]!.Value<double>("road"), 9);
        Assert.Equal(200.0 / 3, doc["IoU"]!.Value<double>("car"), 9);
        Assert.Equal(8, doc.Value<long>("validPixels"));
    }

    [Fact]
    public void Eval_pred_gt_rejects_bad_folders_naming_the_file()
    {
        string pred = Folder("pred"), gt = Folder("gt");
        LabelPng.Write(Path.Combine(gt, "a.png"), new ClassMap(2, 2, [0, 1, 1, 0]));
        LabelPng.Write(Path.Combine(pred, "a.png"), new ClassMap(2, 2, [0, 1, 1, 0]));
        LabelPng.Write(Path.Combine(gt, "frame_0042.png"), new ClassMap(2, 2, [0, 1, 1, 0]));
        var (code, error) = Run("eval", "segment", "--pred", pred, "--gt", gt, "--num-classes", "2");
        Assert.NotEqual(0, code);
        AssertNames(error, "frame_0042.png");

        // A ground-truth value outside [0, C) other than 255.
        string badGt = Path.Combine(gt, "frame_0042.png");
        LabelPng.Write(badGt, new ClassMap(2, 2, [0, 7, 1, 0]));
        LabelPng.Write(Path.Combine(pred, "frame_0042.png"), new ClassMap(2, 2, [0, 1, 1, 0]));
        (code, error) = Run("eval", "segment", "--pred", pred, "--gt", gt, "--num-classes", "2");
        Assert.NotEqual(0, code);
        AssertNames(error, badGt);
        Assert.Contains("7", error);

        // A prediction of another size than its ground truth.
        LabelPng.Write(badGt, new ClassMap(2, 2, [0, 1, 1, 0]));
        string wide = Path.Combine(pred, "frame_0042.png");
        LabelPng.Write(wide, new ClassMap(3, 2, [0, 1, 1, 0, 0, 0]));
        (code, error) = Run("eval", "segment", "--pred", pred, "--gt", gt, "--num-classes", "2");
        Assert.NotEqual(0, code);
        AssertNames(error, wide);

        // Neither or both of --checkpoint and --pred.
        (code, _) = Run("eval", "segment", "--gt", gt, "--num-classes", "2");
        Assert.NotEqual(0, code);
    }

    [Fact]
    public void Train_eval_and_predict_round_trip_on_synthetic_data()
    {
        string cache = Folder("cache"), run = Path.Combine(dir, "run");
        const string data = "synth:n=16,size=64,seed=5";
        var (code, error) = Run("train", "segment", "--data", data, "--cache", cache, "--backbone", "resnet18", "--head", "fcn", "--method", "e2e",
            "--epochs", "1", "--max-batches", "2", "--batch-size", "4", "--crop", "64", "--out", run, "--workers", "1");
        Assert.True(code == 0, error);
        var metrics = JObject.Parse(File.ReadAllText(Path.Combine(run, SegmentationRunner.MetricsFile)));
        double trained = ((JObject)metrics["epochs"]!.Last!).Value<double>("mIoU");

        // eval segment --checkpoint reproduces the run's final mIoU.
        string evalJson = Path.Combine(dir, "eval.json");
        (code, error) = Run("eval", "segment", "--checkpoint", Path.Combine(run, SegmentationRunner.LastCheckpoint), "--data", data, "--cache", cache,
            "--json", evalJson, "--workers", "1");
        Assert.True(code == 0, error);
        var eval = JObject.Parse(File.ReadAllText(evalJson));
        Assert.Equal(trained, eval.Value<double>("mIoU"), 9);

        // predict segment on the val images writes label pngs and overlays; scored against the val ground truth they
        // give the same metrics as eval segment --checkpoint.
        var source = SegmentationDataSource.Open(data, cacheRoot: cache);
        string gt = Folder("val-gt"), outDir = Path.Combine(dir, "pred");
        foreach (var r in source.Val.Samples) File.Copy(r.LabelPath, Path.Combine(gt, Path.GetFileName(r.LabelPath)));
        (code, error) = Run(["predict", "segment", "--checkpoint", Path.Combine(run, SegmentationRunner.LastCheckpoint), "--images",
            .. source.Val.Samples.Select(r => r.ImagePath), "--out", outDir]);
        Assert.True(code == 0, error);
        foreach (var r in source.Val.Samples)
        {
            string stem = Path.GetFileNameWithoutExtension(r.ImagePath);
            var overlay = ImageDecoder.Decode(Path.Combine(outDir, SegmentationPredictor.OverlaysFolder, stem + ".png"));
            var label = LabelPng.Read(Path.Combine(outDir, SegmentationPredictor.LabelsFolder, stem + ".png"));
            Assert.Equal((64, 64), (overlay.Width, overlay.Height));
            Assert.Equal((64, 64), (label.Width, label.Height));
            Assert.All(label.Pixels, v => Assert.InRange(v, 0, 5));
        }
        string folderJson = Path.Combine(dir, "folder.json");
        (code, error) = Run("eval", "segment", "--pred", Path.Combine(outDir, SegmentationPredictor.LabelsFolder), "--gt", gt, "--num-classes", "6", "--json", folderJson);
        Assert.True(code == 0, error);
        var folder = JObject.Parse(File.ReadAllText(folderJson));
        Assert.Equal(eval.Value<double>("mIoU"), folder.Value<double>("mIoU"), 9);
        Assert.Equal(eval.Value<double>("aAcc"), folder.Value<double>("aAcc"), 9);

        // Predicting a missing image names it.
        string missing = Path.Combine(dir, "no-such-image.png");
        (code, error) = Run("predict", "segment", "--checkpoint", Path.Combine(run, SegmentationRunner.LastCheckpoint), "--images", missing, "--out", outDir);
        Assert.NotEqual(0, code);
        AssertNames(error, missing);
    }

    [Fact]
    public void Eval_precise_bn_on_a_plain_checkpoint_repeats_the_precise_run()
    {
        string cache = Folder("cache");
        const string data = "synth:n=16,size=64,seed=5";
        string[] Train(string run, params string[] extra) => ["train", "segment", "--data", data, "--cache", cache, "--backbone", "resnet18", "--head", "fcn",
            "--method", "manpp", "--k", "2", "--epochs", "1", "--max-batches", "2", "--batch-size", "4", "--crop", "64", "--seed", "3", "--out", run, "--workers", "1", .. extra];
        string plain = Path.Combine(dir, "plain"), precise = Path.Combine(dir, "precise");
        var (code, error) = Run(Train(plain));
        Assert.True(code == 0, error);
        (code, error) = Run(Train(precise, "--precise-bn", "2"));
        Assert.True(code == 0, error);
        double Miou(string run) => ((JObject)JObject.Parse(File.ReadAllText(Path.Combine(run, SegmentationRunner.MetricsFile)))["epochs"]!.Last!).Value<double>("mIoU");
        Assert.NotEqual(Miou(plain), Miou(precise), 9);

        // The pass on the plain run's checkpoint takes the batch size, seed and augmentation the checkpoint stores.
        string json = Path.Combine(dir, "precise-eval.json");
        string ckpt = Path.Combine(plain, SegmentationRunner.LastCheckpoint);
        (code, error) = Run("eval", "segment", "--checkpoint", ckpt, "--data", data, "--cache", cache, "--precise-bn", "2", "--json", json, "--workers", "1");
        Assert.True(code == 0, error);
        var doc = JObject.Parse(File.ReadAllText(json));
        Assert.Equal(Miou(precise), doc.Value<double>("mIoU"), 9);
        var pass = (JObject)doc["precise_bn"]!;
        Assert.Equal((2, 4, 3L, 0, "train"), (pass.Value<int>("batches"), pass.Value<int>("batch_size"), pass.Value<long>("seed"), pass.Value<int>("epoch"), pass.Value<string>("split")));
        Assert.True(pass.Value<int>("layers") > 10, pass.ToString());
        Assert.Equal(Path.GetFullPath(ckpt), doc.Value<string>("checkpoint"));

        // Misuse is refused with the reason.
        (code, error) = Run("eval", "segment", "--checkpoint", ckpt, "--data", data, "--cache", cache, "--precise-bn", "-1");
        Assert.NotEqual(0, code);
        Assert.Contains("--precise-bn must be 0", error);
        (code, error) = Run("eval", "segment", "--pred", dir, "--gt", dir, "--num-classes", "2", "--precise-bn", "2");
        Assert.NotEqual(0, code);
        Assert.Contains("a folder of predictions has none", error);
    }

    [Fact]
    public void Train_on_bad_camvid_data_fails_naming_the_file()
    {
        string root = Folder("camvid");
        Folder("camvid/train");
        Folder("camvid/trainannot");
        var rng = new Random(1);
        void Pair(string split, string name, int w, int h, int lw, int lh, byte maxLabel)
        {
            var pixels = new byte[w * h * 3];
            rng.NextBytes(pixels);
            ImageEncoder.Save(new RgbImage(w, h, pixels), Path.Combine(root, split, name));
            LabelPng.Write(Path.Combine(root, split + "annot", name), new ClassMap(lw, lh, Enumerable.Range(0, lw * lh).Select(i => (byte)(i % (maxLabel + 1))).ToArray()));
        }
        string[] Args() => ["train", "segment", "--data", "camvid:" + root, "--method", "e2e", "--epochs", "1", "--batch-size", "2",
            "--crop", "32", "--out", Path.Combine(dir, "run"), "--workers", "1"];
        Pair("train", "a.png", 40, 30, 40, 30, 11);
        Pair("train", "b.png", 40, 30, 40, 30, 11);
        File.WriteAllText(Path.Combine(root, "train.txt"), "train/a.png trainannot/a.png\ntrain/b.png trainannot/b.png\n");
        File.WriteAllText(Path.Combine(root, "val.txt"), "train/a.png trainannot/a.png\ntrain/c.png trainannot/c.png\n");

        // A listed image that does not exist.
        var (code, error) = Run(Args());
        Assert.Equal(2, code);
        AssertNames(error, Path.Combine(root, "train", "c.png"));

        // A label of another size than its image.
        File.WriteAllText(Path.Combine(root, "val.txt"), "train/a.png trainannot/a.png\n");
        Pair("train", "b.png", 40, 30, 40, 20, 11);
        (code, error) = Run(Args());
        Assert.Equal(2, code);
        AssertNames(error, Path.Combine(root, "trainannot", "b.png"));

        // A label value outside CamVid's 0..10 and void 11.
        Pair("train", "b.png", 40, 30, 40, 30, 20);
        (code, error) = Run(Args());
        Assert.Equal(2, code);
        AssertNames(error, Path.Combine(root, "trainannot", "b.png"));
    }
}
