using System.CommandLine;
using System.Globalization;
using Man.Local;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Spectre.Console;

namespace Man.Cli.Commands;

/// <summary>
/// <c>bench transfer</c>: pretrain a ResNet on CIFAR-10 with <c>train classify</c>, then fine-tune a detector on
/// raccoon-voc (<c>train detect</c>) and a segmenter on CamVid (<c>train segment</c>) from that checkpoint and from
/// scratch on the same schedule, each a fresh child process of this CLI; prints one table and writes transfer.json.
/// Finished runs are reused and interrupted ones resumed, so the command can be run again after a stop.
/// </summary>
public static class TransferBenchmark
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var dataRoot = new Option<string>("--data-root") { Description = "Folder with cifar10-jpeg.tar.gz, raccoon-voc/ and camvid/ (default $MAN_DATA or ../shared/data).", DefaultValueFactory = _ => DataPaths.Root() ?? Path.Combine("..", "shared", "data") };
        var arch = new Option<string>("--arch") { Description = "Backbone of all three tasks (resnet18 | resnet34 | resnet50 | resnet101).", DefaultValueFactory = _ => "resnet18" };
        var pretrainMethod = new Option<string>("--pretrain-method") { DefaultValueFactory = _ => "e2e" };
        var pretrainK = new Option<int>("--pretrain-k") { Description = "Local blocks of the pretraining (1 for e2e).", DefaultValueFactory = _ => 1 };
        var pretrainEpochs = new Option<int>("--pretrain-epochs") { DefaultValueFactory = _ => 8 };
        var method = new Option<string>("--method") { Description = "Method of the fine-tuning runs (both inits).", DefaultValueFactory = _ => "manpp" };
        var k = new Option<int>("--k") { DefaultValueFactory = _ => 4 };
        var tasks = new Option<string>("--tasks") { Description = "detect, segment or both.", DefaultValueFactory = _ => "detect,segment" };
        var detEpochs = new Option<int>("--detect-epochs") { DefaultValueFactory = _ => 6 };
        var segEpochs = new Option<int>("--segment-epochs") { DefaultValueFactory = _ => 6 };
        var maxBatches = new Option<int>("--max-batches") { Description = "Cap every epoch of every run at N batches (0 = all; for a smoke run).", DefaultValueFactory = _ => 0 };
        var evalImages = new Option<int>("--eval-images") { Description = "Evaluate only the first N images of each task's evaluation split (0 = all; for a smoke run).", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 0 };
        var outDir = new Option<string>("--out") { DefaultValueFactory = _ => Path.Combine("runs", "transfer") };
        var cmd = new Command("transfer", "CIFAR-10 pretraining with train classify, then raccoon-voc detection and CamVid segmentation fine-tuned from it vs from scratch (same schedule).")
        { dataRoot, arch, pretrainMethod, pretrainK, pretrainEpochs, method, k, tasks, detEpochs, segEpochs, maxBatches, evalImages, threads, outDir };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var inv = CultureInfo.InvariantCulture;
            string root = r.GetValue(dataRoot)!, a = r.GetValue(arch)!, outRoot = r.GetValue(outDir)!;
            var fineMethod = LocalMethods.Parse(r.GetValue(method)!);
            var preMethod = LocalMethods.Parse(r.GetValue(pretrainMethod)!);
            int fineK = fineMethod == LocalMethod.E2E ? 1 : r.GetValue(k), preK = preMethod == LocalMethod.E2E ? 1 : r.GetValue(pretrainK);
            var taskList = r.GetValue(tasks)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            foreach (var t in taskList)
                if (t is not ("detect" or "segment")) throw new ArgumentException($"--tasks takes detect and/or segment (got '{t}').");
            string cifar = Path.Combine(root, "cifar10-jpeg.tar.gz"), raccoon = Path.Combine(root, "raccoon-voc"), camvid = Path.Combine(root, "camvid");
            foreach (var (path, isDir) in new[] { (cifar, false), (raccoon, true), (camvid, true) })
                if (isDir ? !Directory.Exists(path) : !File.Exists(path))
                    throw new FileNotFoundException($"{path} is missing: --data-root must hold cifar10-jpeg.tar.gz, raccoon-voc/ and camvid/ (see datasets/README.md).");
            string mb = r.GetValue(maxBatches).ToString(inv), threadArg = r.GetValue(threads).ToString(inv);
            int evalN = r.GetValue(evalImages);

            var rows = new List<JObject>();
            string pretrainRun = Path.Combine(outRoot, $"pretrain-cifar10-{a}");
            int preEpochs = r.GetValue(pretrainEpochs);
            rows.Add(RunStage("pretrain", pretrainRun, preEpochs,
            [
                "train", "classify", "--data", "cifar10:" + cifar, "--arch", a, "--method", preMethod.Name(), "--k", preK.ToString(inv),
                "--epochs", preEpochs.ToString(inv), "--batch-size", "128", "--lr", "0.1", "--weight-decay", "0.0005", "--seed", "0",
                "--max-batches", mb, "--test-size", evalN.ToString(inv), "--threads", threadArg, "--out", pretrainRun,
            ]));
            string checkpoint = Path.Combine(pretrainRun, "last.ckpt");

            foreach (var task in taskList)
                foreach (bool pretrained in new[] { false, true })
                {
                    string init = pretrained ? "cifar10" : "scratch";
                    string run = Path.Combine(outRoot, $"{task}-{init}-{fineMethod.Name()}-k{fineK}");
                    var args = new List<string>();
                    int epochs;
                    if (task == "detect")
                    {
                        epochs = r.GetValue(detEpochs);
                        args.AddRange(
                        [
                            "train", "detect", "--data", "voc:" + raccoon, "--backbone", a, "--method", fineMethod.Name(), "--k", fineK.ToString(inv),
                            // The same recipe for both inits: every stage trainable with trainable batch norm (the CIFAR statistics
                            // come from 32² images; frozen, they make the deeper stages' activations explode at 256 px).
                            "--trainable-layers", "5", "--backbone-norm", "bn",
                            "--split", fineK == 4 ? "stages" : "balanced", "--epochs", epochs.ToString(inv), "--milestones", Math.Max(1, epochs - 1).ToString(inv),
                            "--warmup-iters", "20", "--batch-size", "4", "--lr", "0.01", "--min-size", "192", "--max-size", "256", "--roi-samples", "128",
                            "--rpn-post-nms-train", "1000", "--rpn-post-nms-test", "300", "--seed", "0", "--max-batches", mb,
                            "--max-eval-images", evalN.ToString(inv), "--threads", threadArg, "--out", run,
                        ]);
                    }
                    else
                    {
                        epochs = r.GetValue(segEpochs);
                        args.AddRange(
                        [
                            "train", "segment", "--data", "camvid:" + camvid, "--backbone", a, "--head", "deeplabv3", "--method", fineMethod.Name(),
                            "--k", fineK.ToString(inv), "--split", fineK == 4 ? "stages" : "balanced", "--epochs", epochs.ToString(inv), "--crop", "256",
                            "--batch-size", "8", "--lr", "0.02", "--seed", "0", "--max-batches", mb, "--val-size", evalN.ToString(inv),
                            "--eval-every", epochs.ToString(inv), "--threads", threadArg, "--out", run,
                        ]);
                    }
                    if (pretrained) args.AddRange(["--pretrained", checkpoint]);
                    var row = RunStage(task, run, epochs, args);
                    row["init"] = init;
                    rows.Add(row);
                }

            var table = new Table().AddColumns("stage", "data", "init", "method", "metric", "value", "also", "peak RSS MiB", "minutes");
            var summary = new JArray();
            foreach (var row in rows)
            {
                var m = (JObject)row["metrics"]!;
                var last = (JObject)m["epochs"]!.Last!;
                string stage = row.Value<string>("stage")!;
                (string data, string metric, double value, string also, double peak) = stage switch
                {
                    "pretrain" => ("CIFAR-10", "test acc %", last.Value<double>("TestAccuracy"), "",
                        m["epochs"]!.Max(e => e.Value<double>("PeakRssMiB"))),
                    "detect" => ("raccoon-voc", "VOC AP50 (area)", 100 * (last.Value<double?>("VocAp50") ?? double.NaN),
                        $"AP {100 * last["Coco"]!.Value<double>("AP"):0.00}, AP50 {100 * last["Coco"]!.Value<double>("AP50"):0.00}, 07 {100 * (last.Value<double?>("VocAp50Voc07") ?? double.NaN):0.00}",
                        m["epochs"]!.Max(e => e.Value<double>("PeakRssMiB"))),
                    _ => ("CamVid val", "mIoU", last.Value<double>("mIoU"), $"aAcc {last.Value<double>("aAcc"):0.00}, mAcc {last.Value<double>("mAcc"):0.00}",
                        m["epochs"]!.Max(e => e.Value<double>("peak_rss_mib"))),
                };
                string init = row.Value<string>("init") ?? "-";
                string methodText = $"{m.Value<string>("method")} K={m.Value<int>("k")}";
                double minutes = row.Value<double>("minutes");
                table.AddRow(stage, data, init, methodText, metric, value.ToString("0.00", inv), Markup.Escape(also),
                    peak.ToString("0", inv), minutes.ToString("0.0", inv));
                summary.Add(new JObject
                {
                    ["stage"] = stage, ["data"] = data, ["init"] = init, ["method"] = m.Value<string>("method"), ["k"] = m.Value<int>("k"),
                    ["epochs"] = m["epochs"]!.Count(), ["metric"] = metric, ["value"] = value, ["also"] = also, ["peak_rss_mib"] = peak,
                    ["minutes"] = minutes, ["run"] = row.Value<string>("run"),
                });
            }
            AnsiConsole.Write(table);
            string json = Path.Combine(outRoot, "transfer.json");
            File.WriteAllText(json, summary.ToString(Formatting.Indented));
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(json)}");
            return 0;
        }));
        return cmd;
    }

    /// <summary>
    /// The training children get a 256 MiB gen-0 budget (unless the caller set one): fewer garbage collections mean
    /// fewer chances for TorchSharp's temporary-Scalar race (README, "Known issue"); the budget only delays the
    /// collection of managed garbage, which these runs do not measure.
    /// </summary>
    private static readonly IReadOnlyDictionary<string, string> ChildEnvironment =
        Environment.GetEnvironmentVariable("DOTNET_GCgen0size") is { Length: > 0 }
            ? new Dictionary<string, string>()
            : new Dictionary<string, string> { ["DOTNET_GCgen0size"] = "0x10000000" };

    /// <summary>
    /// Runs one stage as a child process unless its metrics.json already lists all <paramref name="epochs"/> epochs;
    /// resumes from last.ckpt when an earlier attempt stopped part-way. Throws when the run fails.
    /// </summary>
    internal static JObject RunStage(string stage, string run, int epochs, List<string> args)
    {
        string metricsPath = Path.Combine(run, "metrics.json");
        if (Completed(metricsPath, epochs))
            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(stage)}: {Markup.Escape(run)} is complete ({epochs} epochs); reusing it[/]");
        else if (TryRunStage(stage, run, epochs, args) is string error)
            throw new InvalidOperationException(error);
        var metrics = JObject.Parse(File.ReadAllText(metricsPath));
        return new JObject { ["stage"] = stage, ["run"] = run, ["minutes"] = Minutes(metrics), ["metrics"] = metrics };
    }

    /// <summary>
    /// Trains one stage as a child process (resuming from last.ckpt when one is there; once more after a crash, from the
    /// checkpoint or from the start, not after a NaN loss) until its metrics.json lists all <paramref name="epochs"/> epochs; the child's output goes to this
    /// console, or to <paramref name="log"/> when given. Returns null on success, else what went wrong.
    /// </summary>
    internal static string? TryRunStage(string stage, string run, int epochs, List<string> args, string? log = null)
    {
        string metricsPath = Path.Combine(run, "metrics.json");
        bool resume = File.Exists(Path.Combine(run, "last.ckpt"));
        if (resume) args = [.. args, "--resume"];
        if (log is null)
        {
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(stage)}[/] → {Markup.Escape(run)}{(resume ? " (resuming)" : "")}");
            AnsiConsole.MarkupLine($"[grey]man-vision {Markup.Escape(string.Join(' ', args))}[/]");
        }
        int Child(List<string> a) => log is null ? BenchHarness.RunChild(a, ChildEnvironment) : BenchHarness.RunChildLogged(a, log, ChildEnvironment);
        int code = Child(args);
        if (code != 0 && code != 3)
        {
            // One more try after a crash (not after a NaN loss, exit 3): a resume from the checkpoint continues the same
            // run exactly; a run that stopped before its first checkpoint starts again (a real error fails again, and its
            // message is quoted below).
            bool fromCheckpoint = File.Exists(Path.Combine(run, "last.ckpt"));
            string again = fromCheckpoint ? "resuming it once from last.ckpt" : "it stopped before its first checkpoint: starting it once more";
            string first = log is not null && LastError(log) is string e ? $" ({e})" : "";
            AnsiConsole.MarkupLine($"[yellow]warning: the {Markup.Escape(stage)} run stopped with exit code {code}{Markup.Escape(first)}; {again}[/]");
            if (fromCheckpoint && !args.Contains("--resume")) args = [.. args, "--resume"];
            code = Child(args);
        }
        string where = log is null ? "its output above says why" : WhatTheLogSays(log);
        if (code != 0) return $"the {stage} run ({run}) failed with exit code {code}; {where}.";
        if (!Completed(metricsPath, epochs)) return $"the {stage} run ended without {epochs} epochs in {metricsPath}.";
        return null;
    }

    /// <summary>The last error line a child wrote to <paramref name="log"/> (its <c>error:</c> line or an unhandled exception), or null.</summary>
    public static string? LastError(string log)
    {
        if (!File.Exists(log)) return null;
        string? found = null;
        foreach (var line in File.ReadLines(log))
        {
            string t = line.Trim();
            if (t.StartsWith("error:", StringComparison.Ordinal) || t.StartsWith("Unhandled exception", StringComparison.Ordinal)) found = t;
        }
        return found;
    }

    /// <summary>Where a failed child's reason is: its own error line quoted with the log's path, or the path alone.</summary>
    internal static string WhatTheLogSays(string log) =>
        LastError(log) is string said ? $"it said \"{said}\" (full log: {log})" : $"see {log}";

    /// <summary>Whether a run's metrics.json was planned for <paramref name="epochs"/> epochs and lists them all.</summary>
    internal static bool Completed(string metricsPath, int epochs)
    {
        if (!File.Exists(metricsPath)) return false;
        var m = JObject.Parse(File.ReadAllText(metricsPath));
        return m.Value<int?>("epochs_planned") == epochs && m["epochs"] is JArray done && done.Count >= epochs;
    }

    /// <summary>Training and evaluation time of a run from its metrics (the tasks name the fields differently).</summary>
    private static double Minutes(JObject metrics)
    {
        string[] keys = ["Seconds", "EvalSeconds", "train_seconds", "eval_seconds"];
        return metrics["epochs"]!.Sum(e => keys.Sum(k => e.Value<double?>(k) ?? 0)) / 60;
    }
}
