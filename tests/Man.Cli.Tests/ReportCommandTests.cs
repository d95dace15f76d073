using System.Buffers.Binary;
using Newtonsoft.Json.Linq;

namespace Man.Cli.Tests;

/// <summary>
/// <c>man-vision report</c> on metrics files written here with known curves: per-run values, groups over seeds (mean,
/// sample sd), the difference to e2e (plain and paired by seed), labels, --epoch, the png and the errors.
/// </summary>
public sealed class ReportCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("man-report-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>A detection metrics.json as the runner writes it, with the given COCO AP (fraction) per epoch.</summary>
    private string Detect(string name, string method, int k, long seed, double[] ap, double earlyLr = 1, string dataKind = "synthetic", double[]? voc = null, int? planned = null)
    {
        string run = Path.Combine(dir, name);
        Directory.CreateDirectory(run);
        var doc = new JObject
        {
            ["task"] = "detect", ["data"] = dataKind == "voc" ? "voc:/data/raccoon-voc" : "synth", ["data_kind"] = dataKind, ["backbone"] = "resnet18",
            ["method"] = method, ["k"] = k, ["split"] = k == 1 ? "0-8" : "0-3 | 4 | 5 | 6-8", ["lr"] = 0.01, ["early_lr_scale"] = earlyLr,
            ["clip_grad_norm"] = null, ["seed"] = seed, ["epochs_planned"] = planned ?? ap.Length, ["stopped_on_non_finite_loss"] = false, ["torch_threads"] = 1,
            ["epochs"] = new JArray(ap.Select((v, i) => new JObject
            {
                ["Epoch"] = i, ["Coco"] = new JObject { ["AP"] = v, ["AP50"] = 2 * v, ["APs"] = -1.0 }, ["VocAp50"] = voc?[i],
                ["PeakRssMiB"] = 1000.0 + i, ["StepTimeMsMedian"] = 4000.0,
            })),
        };
        File.WriteAllText(Path.Combine(run, "metrics.json"), doc.ToString());
        return run;
    }

    [Fact]
    public void Groups_over_seeds_give_mean_sd_and_the_difference_to_e2e_paired_by_seed()
    {
        string[] runs =
        [
            Detect("e2e-s0", "e2e", 1, 0, [0.10, 0.20]),
            Detect("e2e-s1", "e2e", 1, 1, [0.12, 0.30]),
            Detect("manpp-s0", "manpp", 4, 0, [0.05, 0.19], earlyLr: 0.1),
            Detect("manpp-s1", "manpp", 4, 1, [0.10, 0.26], earlyLr: 0.1),
            Detect("manpp-r03-s0", "manpp", 4, 0, [0.10, 0.25], earlyLr: 0.3),
        ];
        string json = Path.Combine(dir, "report.json");
        string png = Path.Combine(dir, "plots", "curves.png");
        var (code, output, err) = CliRunner.Run(["report", .. runs, "--json", json, "--plot", png]);
        Assert.True(code == 0, err);
        Assert.Contains("AP mean", output);
        var doc = JObject.Parse(File.ReadAllText(json));
        Assert.Equal("detect", doc.Value<string>("task"));
        Assert.Equal("AP", doc.Value<string>("metric"));
        var groups = doc["groups"]!.ToDictionary(g => g.Value<string>("label")!, g => (JObject)g);
        Assert.Equal(["e2e K=1", "manpp K=4 early_lr_scale=0.1", "manpp K=4 early_lr_scale=0.3"], groups.Keys.Order());

        // e2e: finals 20 and 30 → mean 25, sd √50; no difference to itself.
        var e2e = groups["e2e K=1"];
        Assert.Equal(2, e2e.Value<int>("n"));
        Assert.Equal(25.0, e2e.Value<double>("mean"), 9);
        Assert.Equal(Math.Sqrt(50), e2e.Value<double>("std"), 9);
        Assert.Equal(JTokenType.Null, e2e["delta_to_e2e"]!.Type);
        Assert.Equal([10.0, 20.0], e2e["runs"]![0]!["curve"]!.Values<double>().Select(v => Math.Round(v, 9)));

        // MAN++ at 0.1: finals 19 and 26 → mean 22.5, sd √24.5, Δ −2.5; per seed −1 and −4 → mean −2.5, sd √4.5.
        var m01 = groups["manpp K=4 early_lr_scale=0.1"];
        Assert.Equal(22.5, m01.Value<double>("mean"), 9);
        Assert.Equal(Math.Sqrt(24.5), m01.Value<double>("std"), 9);
        Assert.Equal(-2.5, m01.Value<double>("delta_to_e2e"), 9);
        Assert.Equal(-2.5, m01["paired_delta_to_e2e"]!.Value<double>("mean"), 9);
        Assert.Equal(Math.Sqrt(4.5), m01["paired_delta_to_e2e"]!.Value<double>("std"), 9);
        Assert.Equal(2, m01["paired_delta_to_e2e"]!.Value<int>("pairs"));
        Assert.Equal(26.0, m01["runs"]![1]!.Value<double>("best"), 9);

        // One run at 0.3 (seed 0): Δ to the e2e mean 0, paired with e2e seed 0: +5 from one pair (no sd).
        var m03 = groups["manpp K=4 early_lr_scale=0.3"];
        Assert.Equal(0.0, m03.Value<double>("delta_to_e2e"), 9);
        Assert.Equal(5.0, m03["paired_delta_to_e2e"]!.Value<double>("mean"), 9);
        Assert.Equal(JTokenType.Null, m03["paired_delta_to_e2e"]!["std"]!.Type);
        Assert.Equal(JTokenType.Null, m03["std"]!.Type);

        // The png: 900 × 560 (IHDR).
        byte[] bytes = File.ReadAllBytes(png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        Assert.Equal(900, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4)));
        Assert.Equal(560, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20, 4)));
        Assert.False(File.Exists(png + ".tmp.png"));

        // --epoch 1 compares after the first epoch; --metric picks another of the 12 (APs is −1 in pycocotools: no value).
        (code, _, err) = CliRunner.Run(["report", .. runs[..4], "--epoch", "1", "--metric", "AP50", "--json", json]);
        Assert.True(code == 0, err);
        doc = JObject.Parse(File.ReadAllText(json));
        Assert.Equal(22.0, doc["groups"]![0]!.Value<double>("mean"), 9); // e2e AP50 after epoch 1: 20 and 24
        Assert.Equal(15.0, doc["groups"]![1]!.Value<double>("mean"), 9); // MAN++: 10 and 20
        (code, _, err) = CliRunner.Run(["report", runs[0], "--metric", "APs", "--json", json]);
        Assert.True(code == 0, err);
        Assert.Equal(JTokenType.Null, JObject.Parse(File.ReadAllText(json))["groups"]![0]!["mean"]!.Type);
    }

    [Fact]
    public void Eval_files_replace_the_final_value_and_name_what_is_missing()
    {
        // Held-out evaluations as eval detect --json writes them (fractions; pycocotools' −1 for APl).
        string Held(string run, double ap, double? voc = null)
        {
            var doc = new JObject { ["AP"] = ap, ["AP50"] = 2 * ap, ["APl"] = -1.0, ["images"] = 299, ["data"] = "coco:/held/instances_train.json" };
            if (voc is double v) doc["VOC_AP50"] = v;
            File.WriteAllText(Path.Combine(run, "heldout.json"), doc.ToString());
            return run;
        }
        string[] runs =
        [
            Held(Detect("e2e-s0", "e2e", 1, 0, [0.10, 0.30]), 0.2435),
            Held(Detect("e2e-s1", "e2e", 1, 1, [0.10, 0.31]), 0.2360),
            Held(Detect("manpp-s0", "manpp", 4, 0, [0.10, 0.28]), 0.2208),
            Held(Detect("manpp-s1", "manpp", 4, 1, [0.10, 0.29]), 0.2212),
        ];
        string json = Path.Combine(dir, "held.json");
        var (code, _, err) = CliRunner.Run(["report", .. runs, "--eval", "heldout.json", "--json", json]);
        Assert.True(code == 0, err);
        var doc = JObject.Parse(File.ReadAllText(json));
        var e2e = doc["groups"]![0]!;
        var manpp = doc["groups"]![1]!;
        // e2e: 24.35 and 23.60 → mean 23.975; MAN++ 22.08 and 22.12 → 22.10; paired −2.27 and −1.48 → −1.875, sd √(2·0.395²).
        Assert.Equal(23.975, e2e.Value<double>("mean"), 9);
        Assert.Equal(22.10, manpp.Value<double>("mean"), 9);
        Assert.Equal(-1.875, manpp.Value<double>("delta_to_e2e"), 9);
        Assert.Equal(-1.875, manpp["paired_delta_to_e2e"]!.Value<double>("mean"), 9);
        Assert.Equal(Math.Sqrt(2 * 0.395 * 0.395), manpp["paired_delta_to_e2e"]!.Value<double>("std"), 9);
        var run = e2e["runs"]![0]!;
        Assert.Equal(Path.Combine(runs[0], "heldout.json"), run.Value<string>("final_from"));
        Assert.Equal(30.0, run.Value<double>("best"), 9); // best stays the training-time curve's
        // --metric reads the same key; −1 is no value.
        (code, _, err) = CliRunner.Run(["report", .. runs, "--eval", "heldout.json", "--metric", "AP50", "--json", json]);
        Assert.True(code == 0, err);
        Assert.Equal(47.95, JObject.Parse(File.ReadAllText(json))["groups"]![0]!.Value<double>("mean"), 9);
        (code, _, err) = CliRunner.Run(["report", runs[0], "--eval", "heldout.json", "--metric", "APl", "--json", json]);
        Assert.True(code == 0, err);
        Assert.Equal(JTokenType.Null, JObject.Parse(File.ReadAllText(json))["groups"]![0]!["mean"]!.Type);

        (code, _, err) = CliRunner.Run(["report", runs[0], "--eval", "heldout.json", "--metric", "voc_ap50"]);
        Assert.Equal(2, code);
        Assert.Contains(Path.Combine(runs[0], "heldout.json") + ": no 'VOC_AP50' value for voc_ap50", err);
        (code, _, err) = CliRunner.Run(["report", runs[0], "--eval", "other.json"]);
        Assert.Equal(2, code);
        Assert.Contains(Path.Combine(runs[0], "other.json") + ": no such file", err);
        (code, _, err) = CliRunner.Run(["report", runs[0], "--eval", "heldout.json", "--epoch", "1"]);
        Assert.Equal(2, code);
        Assert.Contains("--eval and --epoch both choose the compared value", err);
        (code, _, err) = CliRunner.Run(["report", runs[0], "--eval", Path.Combine(runs[0], "heldout.json")]);
        Assert.Equal(2, code);
        Assert.Contains("--eval takes a file name inside each run folder", err);
        File.WriteAllText(Path.Combine(runs[1], "heldout.json"), "{\"AP\": \"high\"}");
        (code, _, err) = CliRunner.Run(["report", runs[1], "--eval", "heldout.json"]);
        Assert.Equal(2, code);
        Assert.Contains(Path.Combine(runs[1], "heldout.json") + ": 'AP' is not a number", err);
    }

    [Fact]
    public void Voc_runs_default_to_voc_ap50_and_unfinished_runs_are_marked()
    {
        string a = Detect("rac-e2e", "e2e", 1, 0, [0.2, 0.25], dataKind: "voc", voc: [0.5, 0.66]);
        string b = Detect("rac-manpp", "manpp", 4, 0, [0.2], dataKind: "voc", voc: [0.55], planned: 2);
        string json = Path.Combine(dir, "voc.json");
        var (code, output, err) = CliRunner.Run("report", a, Path.Combine(b, "metrics.json"), "--json", json);
        Assert.True(code == 0, err);
        var doc = JObject.Parse(File.ReadAllText(json));
        Assert.Equal("voc_ap50", doc.Value<string>("metric"));
        Assert.Equal(66.0, doc["groups"]![0]!.Value<double>("mean"), 9);
        var manpp = doc["groups"]![1]!["runs"]![0]!;
        Assert.True(manpp.Value<bool>("incomplete"));
        Assert.Equal(1, manpp.Value<int>("epochs"));
        Assert.Equal(-11.0, doc["groups"]![1]!.Value<double>("delta_to_e2e"), 9);
        Assert.Contains("rac-manpp ended before the planned epochs", System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " "));
    }

    [Fact]
    public void Classification_and_segmentation_metrics_and_bad_input_give_clear_errors()
    {
        string cls = Path.Combine(dir, "cls");
        Directory.CreateDirectory(cls);
        File.WriteAllText(Path.Combine(cls, "metrics.json"), new JObject
        {
            ["task"] = "classify", ["method"] = "manpp", ["k"] = 4, ["seed"] = 3,
            ["epochs"] = new JArray(new JObject { ["TestAccuracy"] = 61.5, ["PeakRssMiB"] = 900.0, ["StepTimeMsMedian"] = 500.0 }),
        }.ToString());
        string seg = Path.Combine(dir, "seg");
        Directory.CreateDirectory(seg);
        File.WriteAllText(Path.Combine(seg, "metrics.json"), new JObject
        {
            ["task"] = "segment", ["method"] = "e2e", ["k"] = 1, ["seed"] = 0,
            ["epochs"] = new JArray(new JObject { ["mIoU"] = null, ["peak_rss_mib"] = 800.0 }, new JObject { ["mIoU"] = 41.25, ["aAcc"] = 80.0, ["peak_rss_mib"] = 810.0 }),
        }.ToString());
        string json = Path.Combine(dir, "r.json");
        var (code, _, err) = CliRunner.Run("report", cls, "--json", json);
        Assert.True(code == 0, err);
        Assert.Equal(61.5, JObject.Parse(File.ReadAllText(json))["groups"]![0]!.Value<double>("mean"), 9);
        (code, _, err) = CliRunner.Run("report", seg, "--json", json);
        Assert.True(code == 0, err);
        var run = JObject.Parse(File.ReadAllText(json))["groups"]![0]!["runs"]![0]!;
        Assert.Equal(41.25, run.Value<double>("final"), 9);
        Assert.Equal(JTokenType.Null, run["curve"]![0]!.Type); // epoch 1 was not evaluated
        Assert.Equal(810.0, run.Value<double>("peak_rss_mib"));

        (code, _, err) = CliRunner.Run("report", cls, seg);
        Assert.Equal(2, code);
        Assert.Contains("different tasks (cls: classify, seg: segment)", err);
        (code, _, err) = CliRunner.Run("report", cls, "--metric", "AP");
        Assert.Equal(2, code);
        Assert.Contains("--metric AP is not a classify metric; use one of top1", err);
        (code, _, err) = CliRunner.Run("report", seg, "--epoch", "3");
        Assert.Equal(2, code);
        Assert.Contains("the run has 2 completed epochs, fewer than --epoch 3", err);
        string empty = Path.Combine(dir, "empty");
        Directory.CreateDirectory(empty);
        (code, _, err) = CliRunner.Run("report", empty);
        Assert.Equal(2, code);
        Assert.Contains(Path.Combine(empty, "metrics.json") + ": no such file", err);
        (code, _, err) = CliRunner.Run("report", Path.Combine(dir, "nowhere"));
        Assert.Equal(2, code);
        Assert.Contains("nowhere: no such run folder or metrics file", err);
        File.WriteAllText(Path.Combine(empty, "metrics.json"), "{\"task\": \"detect\", \"epochs\": [");
        (code, _, err) = CliRunner.Run("report", empty);
        Assert.Equal(2, code);
        Assert.Contains(Path.Combine(empty, "metrics.json") + ": not valid json", err);
        File.WriteAllText(Path.Combine(empty, "metrics.json"), "{\"task\": \"pose\", \"epochs\": []}");
        (code, _, err) = CliRunner.Run("report", empty);
        Assert.Equal(2, code);
        Assert.Contains(Path.Combine(empty, "metrics.json") + ": unknown task 'pose'", err);
    }
}
