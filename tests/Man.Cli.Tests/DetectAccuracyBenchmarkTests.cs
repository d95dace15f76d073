using Man.Testing;
using System.Diagnostics;
using Man.Cli.Commands;
using Man.Vision.Data.Synthetic;
using Newtonsoft.Json.Linq;
using Xunit.Abstractions;

namespace Man.Cli.Tests;

public sealed class DetectAccuracyBenchmarkTests(ITestOutputHelper output)
{
    private static RunSummary Run(string method, long seed, double value) =>
        new($"{method}-s{seed}", "unused", "detect", method, method == "e2e" ? 1 : 4, seed, "AP", new Dictionary<string, string>(),
            [value], 1, false, double.NaN, double.NaN);

    [Fact]
    public void Runs_are_paired_by_seed_and_seeds_without_a_value_on_both_sides_are_left_out()
    {
        var e2e = new[] { Run("e2e", 0, 60), Run("e2e", 1, 62), Run("e2e", 2, 61), Run("e2e", 4, double.NaN) };
        var manpp = new[] { Run("manpp", 3, 70), Run("manpp", 1, 63), Run("manpp", 0, 59), Run("manpp", 4, 58) };
        var row = DetectAccuracyBenchmark.Pair("synthetic val", "AP", e2e, manpp);
        Assert.Equal([0L, 1L], row.Seeds);
        Assert.Equal([60.0, 62.0], row.E2e);
        Assert.Equal([59.0, 63.0], row.Compared);
        Assert.Equal([-1.0, 1.0], row.Deltas);
        Assert.Equal(61.0, row.E2eMean, 12);
        Assert.Equal(Math.Sqrt(2), row.E2eSd, 12);
        Assert.Equal(61.0, row.ComparedMean, 12);
        Assert.Equal(Math.Sqrt(8), row.ComparedSd, 12);
        Assert.Equal(0.0, row.DeltaMean, 12);
        Assert.Equal(Math.Sqrt(2), row.DeltaSd, 12);
        Assert.Equal(1.0, row.DeltaSe, 12);
        Assert.Equal(1, row.Ahead);
        Assert.Throws<ArgumentException>(() => DetectAccuracyBenchmark.Pair("x", "AP", [Run("e2e", 0, 1), Run("e2e", 0, 2)], manpp));
    }

    [Fact]
    public void Seed_lists_take_numbers_and_ranges()
    {
        Assert.Equal([0L, 1, 2, 5], DetectAccuracyBenchmark.ParseSeeds("0-2,5", "--seeds"));
        Assert.Equal([1L, 3], DetectAccuracyBenchmark.ParseSeeds("3, 1,1", "--seeds"));
        foreach (var bad in new[] { "a", "5-2", "", "1-x", "-3" })
        {
            var e = Assert.Throws<ArgumentException>(() => DetectAccuracyBenchmark.ParseSeeds(bad, "--seeds"));
            Assert.StartsWith("--seeds", e.Message);
        }
    }

    [Fact]
    public void Missing_data_and_a_method_without_local_learning_are_refused_before_any_run()
    {
        using var root = new TempDir("man-dacc");
        string outDir = Path.Combine(root, "runs");
        var (code, stdout, stderr) = CliRunner.Run("bench", "detect-accuracy", "--data-root", root, "--pretrained", "none", "--out", outDir);
        output.WriteLine(stdout + stderr);
        Assert.NotEqual(0, code);
        Assert.Contains($"{Path.Combine(root, "raccoon-voc")} is missing", (stdout + stderr).Replace("\n", "", StringComparison.Ordinal));
        Assert.False(Directory.Exists(outDir), "no run folder before the checks passed");

        // A raccoon-voc folder that is there but not a VOC data set is named once, before any run (not by every child).
        Directory.CreateDirectory(Path.Combine(root, "raccoon-voc", "Annotations"));
        (code, stdout, stderr) = CliRunner.Run("bench", "detect-accuracy", "--data-root", root, "--sets", "raccoon", "--pretrained", "none", "--out", outDir);
        Assert.Equal(2, code);
        Assert.Contains($"{Path.Combine(root, "raccoon-voc", "ImageSets", "Main")}: no train.txt or trainval.txt", (stdout + stderr).Replace("\n", "", StringComparison.Ordinal));
        Assert.False(Directory.Exists(outDir), "no run folder before the checks passed");

        (code, stdout, stderr) = CliRunner.Run("bench", "detect-accuracy", "--data-root", root, "--sets", "synth", "--out", outDir);
        Assert.NotEqual(0, code);
        Assert.Contains("cifar10-jpeg.tar.gz is missing", (stdout + stderr).Replace("\n", "", StringComparison.Ordinal));

        (code, stdout, stderr) = CliRunner.Run("bench", "detect-accuracy", "--sets", "synth", "--pretrained", "none", "--method", "e2e", "--out", outDir);
        Assert.NotEqual(0, code);
        Assert.Contains("--method e2e: the benchmark compares e2e with a local-learning method", (stdout + stderr).Replace("\n", "", StringComparison.Ordinal));

        (code, stdout, stderr) = CliRunner.Run("bench", "detect-accuracy", "--sets", "synth,coco", "--pretrained", "none", "--out", outDir);
        Assert.NotEqual(0, code);
        Assert.Contains("--sets takes synth and/or raccoon (got 'coco')", (stdout + stderr).Replace("\n", "", StringComparison.Ordinal));

        foreach (var (option, value, message) in new[]
        {
            ("--aux-head", "fpn", "Unknown auxiliary detection head 'fpn'"),
            ("--milestones", "5,9", "Milestone 9 lies outside 1..8 (epochs)"),
            ("--milestones", "5;7", "--milestones 5;7: '5;7' is not a whole number"),
            ("--early-lr-scale", "-1", "--early-lr-scale must be a finite non-negative number (got -1)"),
            ("--backbone", "resnet19", "resnet19"),
        })
        {
            (code, stdout, stderr) = CliRunner.Run("bench", "detect-accuracy", "--sets", "synth", "--pretrained", "none", option, value, "--out", outDir);
            Assert.NotEqual(0, code);
            Assert.Contains(message, (stdout + stderr).Replace("\n", "", StringComparison.Ordinal));
        }
        Assert.False(Directory.Exists(outDir));
    }

    private static void WriteRun(string dir, string method, long seed, string dataKind, double coco, double? voc, double? heldOut)
    {
        Directory.CreateDirectory(dir);
        var epoch = new JObject { ["Coco"] = new JObject { ["AP"] = coco } };
        if (voc is double v) epoch["VocAp50"] = v;
        File.WriteAllText(Path.Combine(dir, "metrics.json"), new JObject
        {
            ["task"] = "detect", ["method"] = method, ["k"] = method == "e2e" ? 1 : 4, ["seed"] = seed, ["data_kind"] = dataKind,
            ["backbone"] = "resnet18", ["lr"] = 0.01, ["pretrained"] = null, ["aux_head"] = method == "e2e" ? "dense" : "rcnn", ["early_lr_scale"] = method == "e2e" ? 1.0 : 2.0,
            ["epochs_planned"] = 1, ["epochs"] = new JArray(epoch),
        }.ToString());
        if (heldOut is double h) File.WriteAllText(Path.Combine(dir, DetectAccuracyBenchmark.HeldOutFile), new JObject { ["AP"] = h }.ToString());
    }

    [Fact]
    public void Finished_runs_are_reused_and_their_values_paired_in_the_table_and_the_json()
    {
        using var root = new TempDir("man-dacc");
        // A readable VOC folder in raccoon-voc's place (the benchmark reads it before any run).
        SyntheticDataWriter.Write(SyntheticTask.Detect, Path.Combine(root, "raccoon-voc"), 5, 0);
        string outDir = Path.Combine(root, "runs");
        // Finished runs under the names the benchmark gives them: synthetic seeds 0 and 2, raccoon-voc seed 2.
        WriteRun(Path.Combine(outDir, "synth-e2e-s0"), "e2e", 0, "synthetic", 0.60, null, 0.58);
        WriteRun(Path.Combine(outDir, "synth-e2e-s2"), "e2e", 2, "synthetic", 0.62, null, 0.61);
        WriteRun(Path.Combine(outDir, "synth-manpp-k4-balanced-rcnn-early2-s0"), "manpp", 0, "synthetic", 0.59, null, 0.585);
        WriteRun(Path.Combine(outDir, "synth-manpp-k4-balanced-rcnn-early2-s2"), "manpp", 2, "synthetic", 0.64, null, 0.60);
        WriteRun(Path.Combine(outDir, "raccoon-e2e-s2"), "e2e", 2, "voc", 0.37, 0.75, null);
        WriteRun(Path.Combine(outDir, "raccoon-manpp-k4-balanced-rcnn-early2-s2"), "manpp", 2, "voc", 0.38, 0.78, null);

        var (code, stdout, stderr) = CliRunner.Run("bench", "detect-accuracy", "--data-root", root, "--pretrained", "none", "--seeds", "0,2",
            "--raccoon-seeds", "2", "--aux-head", "rcnn", "--early-lr-scale", "2", "--epochs", "1", "--milestones", "1", "--heldout-images", "5", "--jobs", "2", "--out", outDir);
        output.WriteLine(stdout + stderr);
        Assert.Equal(0, code);
        Assert.Contains("synth-e2e-s0 (reused)", stdout);
        Assert.False(Directory.Exists(Path.Combine(outDir, "logs")), "nothing was trained or evaluated");
        Assert.True(File.Exists(Path.Combine(outDir, "heldout-synth-n5-seed7", "coco", "instances_train.json")));

        var doc = JObject.Parse(File.ReadAllText(Path.Combine(outDir, "detect-accuracy.json")));
        Assert.Equal("rcnn", doc.Value<string>("aux_head"));
        var rows = doc["rows"]!.ToList();
        Assert.Equal(["synthetic val", "synthetic held out", "raccoon-voc val", "raccoon-voc val"], rows.Select(r => r.Value<string>("test_set")!));
        Assert.Equal(["AP", "AP", "voc_ap50", "AP"], rows.Select(r => r.Value<string>("metric")!));
        // synthetic val: deltas −1 and +2 (AP in percent).
        Assert.Equal([0L, 2L], rows[0]["seeds"]!.Values<long>());
        Assert.Equal(0.5, rows[0].Value<double>("delta_mean"), 9);
        Assert.Equal(Math.Sqrt(4.5), rows[0].Value<double>("delta_sd"), 9);
        Assert.Equal(1.5, rows[0].Value<double>("delta_se"), 9);
        Assert.Equal(1, rows[0].Value<int>("ahead"));
        // held out: +0.5 and −1.
        Assert.Equal(-0.25, rows[1].Value<double>("delta_mean"), 9);
        Assert.Equal(59.5, rows[1].Value<double>("e2e_mean"), 9);
        // raccoon-voc: one seed, VOC AP50 +3, COCO AP +1; no spread from one pair.
        Assert.Equal(3.0, rows[2].Value<double>("delta_mean"), 9);
        Assert.Equal(JTokenType.Null, rows[2]["delta_sd"]!.Type);
        Assert.Equal(1.0, rows[3].Value<double>("delta_mean"), 9);
        Assert.Equal("manpp K = 4 (balanced, rcnn heads, early rate ×2)", doc.Value<string>("compared"));

        // A run folder of another setting under a name the benchmark uses is never reused.
        var metrics = Path.Combine(outDir, "synth-manpp-k4-balanced-rcnn-early2-s2", "metrics.json");
        var m = JObject.Parse(File.ReadAllText(metrics));
        m["aux_head"] = "dense";
        File.WriteAllText(metrics, m.ToString());
        (code, stdout, stderr) = CliRunner.Run("bench", "detect-accuracy", "--data-root", root, "--pretrained", "none", "--seeds", "0,2",
            "--raccoon-seeds", "2", "--aux-head", "rcnn", "--early-lr-scale", "2", "--epochs", "1", "--milestones", "1", "--heldout-images", "5", "--jobs", "1", "--out", outDir);
        output.WriteLine(stdout + stderr);
        Assert.NotEqual(0, code);
        string text = (stdout + stderr).Replace("\n", "", StringComparison.Ordinal);
        Assert.Contains("was trained with aux_head = \"dense\", this benchmark asks for \"rcnn\"", text);
        Assert.Contains("1 of 6 runs failed", text);
    }

    /// <summary>Runs the built CLI as its own process (children of the benchmark are started from it, as a user's are).</summary>
    private async Task<(int Code, string Out)> RunCli(string cache, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "man-vision.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["MAN_CACHE"] = cache;
        psi.Environment["COLUMNS"] = "250";
        using var p = Process.Start(psi)!;
        var errTask = p.StandardError.ReadToEndAsync();
        string stdout = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        string all = stdout + await errTask;
        output.WriteLine(all);
        return (p.ExitCode, all);
    }

    [Fact]
    public async Task A_run_that_fails_before_its_first_checkpoint_is_started_once_more_and_its_own_error_quoted()
    {
        using var root = new TempDir("man-dacc");
        // The file exists (the benchmark checks that) but is no weights file: every child stops while loading it.
        string weights = root.File("not-weights.pth");
        File.WriteAllText(weights, "not a checkpoint");
        string outDir = Path.Combine(root, "runs");
        var (code, text) = await RunCli(Path.Combine(root, "cache"), "bench", "detect-accuracy", "--sets", "synth", "--seeds", "0", "--pretrained", weights,
            "--epochs", "1", "--milestones", "1", "--max-batches", "1", "--eval-images", "2", "--synth-images", "10", "--heldout-images", "5",
            "--jobs", "2", "--threads", "1", "--out", outDir);
        Assert.Equal(2, code);
        string flat = text.Replace("\n", "", StringComparison.Ordinal);
        Assert.Contains("2 of 2 runs failed", flat);
        foreach (var name in new[] { "synth-e2e-s0", "synth-manpp-k4-balanced-dense-s0" })
        {
            Assert.Contains($"warning: the {name} run stopped with exit code 2 (error: ", flat);
            Assert.Contains("it stopped before its first checkpoint: starting it once more", flat);
            string log = File.ReadAllText(Path.Combine(outDir, "logs", name + ".log"));
            var errors = log.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, errors.Count); // the first try and the one more
            Assert.Contains(weights, errors[1]);
            // The failure message quotes the child's own line, not only the log's path.
            Assert.Contains($"failed with exit code 2; it said \"{errors[1]}\"", flat);
            Assert.False(File.Exists(Path.Combine(outDir, name, "last.ckpt")));
        }
    }

    [Fact]
    public void A_failed_childs_own_error_line_is_quoted_from_its_log()
    {
        using var dir = new TempDir("man-dacc");
        string log = dir.File("logs/run.log");
        Assert.Null(TransferBenchmark.LastError(log));
        File.WriteAllLines(log, ["train detect resnet18", "epoch 1/8", "error: an earlier try", "resuming", "  error: /data/x.json: line 3: unexpected end", "done"]);
        Assert.Equal("error: /data/x.json: line 3: unexpected end", TransferBenchmark.LastError(log));
        File.WriteAllLines(log, ["train detect resnet18", "epoch 1/8"]);
        Assert.Null(TransferBenchmark.LastError(log));
    }

    /// <summary>Writes the children's logs to the test output (a failed child says why only there).</summary>
    private void ShowLogs(string outDir)
    {
        string logs = Path.Combine(outDir, "logs");
        if (!Directory.Exists(logs)) return;
        foreach (var log in Directory.GetFiles(logs).Order(StringComparer.Ordinal))
            output.WriteLine($"--- {log}\n{File.ReadAllText(log)}");
    }

    [Fact]
    public async Task Trainings_run_as_child_processes_side_by_side_and_a_second_call_reuses_them()
    {
        using var root = new TempDir("man-dacc");
        string outDir = Path.Combine(root, "runs"), cache = Path.Combine(root, "cache");
        string[] args = ["bench", "detect-accuracy", "--sets", "synth", "--seeds", "0", "--pretrained", "none", "--epochs", "1", "--milestones", "1",
            "--max-batches", "1", "--eval-images", "2", "--synth-images", "10", "--heldout-images", "6", "--jobs", "2", "--threads", "1", "--out", outDir];
        var (code, text) = await RunCli(cache, args);
        if (code != 0) ShowLogs(outDir);
        Assert.Equal(0, code);
        foreach (var name in new[] { "synth-e2e-s0", "synth-manpp-k4-balanced-dense-s0" })
        {
            string log = File.ReadAllText(Path.Combine(outDir, "logs", name + ".log"));
            Assert.Contains("train detect resnet18", log);
            Assert.Contains(Path.Combine(outDir, name, DetectAccuracyBenchmark.HeldOutFile), log);
        }
        var doc = JObject.Parse(File.ReadAllText(Path.Combine(outDir, "detect-accuracy.json")));
        var rows = doc["rows"]!.ToList();
        Assert.Equal(2, rows.Count);
        // The table's values are the runs' own: the last epoch's AP and the held-out file's.
        var e2eVal = RunReport.Load(Path.Combine(outDir, "synth-e2e-s0"), "AP");
        var manppHeld = RunReport.Load(Path.Combine(outDir, "synth-manpp-k4-balanced-dense-s0"), "AP", null, DetectAccuracyBenchmark.HeldOutFile);
        Assert.Equal("manpp", manppHeld.Method);
        Assert.Equal(4, manppHeld.K);
        Assert.Equal(e2eVal.Final, rows[0]["e2e"]![0]!.Value<double>(), 9);
        Assert.Equal(manppHeld.Final, rows[1]["compared"]![0]!.Value<double>(), 9);
        Assert.Equal(100 * JObject.Parse(File.ReadAllText(Path.Combine(outDir, "synth-manpp-k4-balanced-dense-s0", "heldout.json"))).Value<double>("AP"),
            manppHeld.Final, 9);

        long before = new FileInfo(Path.Combine(outDir, "logs", "synth-e2e-s0.log")).Length;
        (code, text) = await RunCli(cache, args);
        if (code != 0) ShowLogs(outDir);
        Assert.Equal(0, code);
        Assert.Contains("synth-e2e-s0 (reused)", text);
        Assert.Contains("synth-manpp-k4-balanced-dense-s0 (reused)", text);
        Assert.Equal(before, new FileInfo(Path.Combine(outDir, "logs", "synth-e2e-s0.log")).Length);
    }
}
