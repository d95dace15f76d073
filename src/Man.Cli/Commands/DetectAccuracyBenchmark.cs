using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Man.Local;
using Man.Vision.Backbones.ResNets;
using Man.Vision.Data.Synthetic;
using Man.Vision.Detection.Training;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Spectre.Console;

namespace Man.Cli.Commands;

/// <summary>
/// <c>bench detect-accuracy</c>: e2e against a local-learning method (MAN++ K = 4 by default) on one fine-tuning
/// schedule, over several seeds, on the synthetic default (its val split and a larger held-out rendering) and on
/// raccoon-voc. Every training is a fresh child process of this CLI (<c>--jobs</c> side by side, each logging to its own
/// file); finished runs are reused and stopped ones resumed, so the command can be run again after a stop. Prints the
/// difference to e2e paired by seed and writes detect-accuracy.json.
/// </summary>
public static class DetectAccuracyBenchmark
{
    /// <summary>The data sets the benchmark trains on.</summary>
    public static IReadOnlyList<string> Sets { get; } = ["synth", "raccoon"];

    /// <summary>One training of the benchmark.</summary>
    /// <param name="Set">synth or raccoon.</param>
    /// <param name="Method">The method's name (e2e or the compared one).</param>
    /// <param name="Seed">Its seed.</param>
    /// <param name="Name">The run folder's name under the output folder.</param>
    public sealed record RunSpec(string Set, string Method, long Seed, string Name);

    /// <summary>One test set and metric: e2e and the compared method, paired by seed.</summary>
    /// <param name="TestSet">What was evaluated, e.g. "synthetic held out".</param>
    /// <param name="Metric">The metric (percent), as <c>man-vision report</c> names it.</param>
    /// <param name="Seeds">Seeds both methods have a finite value for, ascending.</param>
    /// <param name="E2e">e2e's values at those seeds.</param>
    /// <param name="Compared">The compared method's values at those seeds.</param>
    public sealed record PairedRow(string TestSet, string Metric, long[] Seeds, double[] E2e, double[] Compared)
    {
        /// <summary>Per-seed differences, compared − e2e.</summary>
        public double[] Deltas => Compared.Zip(E2e, (c, e) => c - e).ToArray();

        /// <summary>Mean of e2e's values.</summary>
        public double E2eMean => Mean(E2e);

        /// <summary>Sample standard deviation of e2e's values (NaN for one seed).</summary>
        public double E2eSd => Sd(E2e);

        /// <summary>Mean of the compared method's values.</summary>
        public double ComparedMean => Mean(Compared);

        /// <summary>Sample standard deviation of the compared method's values (NaN for one seed).</summary>
        public double ComparedSd => Sd(Compared);

        /// <summary>Mean paired difference.</summary>
        public double DeltaMean => Mean(Deltas);

        /// <summary>Sample standard deviation of the paired differences (NaN for one seed).</summary>
        public double DeltaSd => Sd(Deltas);

        /// <summary>Standard error of the mean paired difference, sd / √n (NaN for one seed).</summary>
        public double DeltaSe => DeltaSd / Math.Sqrt(Seeds.Length);

        /// <summary>Seeds at which the compared method is ahead of e2e.</summary>
        public int Ahead => Deltas.Count(d => d > 0);

        private static double Mean(double[] v) => v.Length == 0 ? double.NaN : v.Average();

        private static double Sd(double[] v)
        {
            if (v.Length < 2) return double.NaN;
            double m = v.Average();
            return Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (v.Length - 1));
        }
    }

    /// <summary>The test sets and metrics of a data set: (test set, metric, evaluation file in the run folder or null).</summary>
    public static IReadOnlyList<(string TestSet, string Metric, string? EvalFile)> Evaluations(string set) => set switch
    {
        "synth" => [("synthetic val", "AP", null), ("synthetic held out", "AP", HeldOutFile)],
        "raccoon" => [("raccoon-voc val", "voc_ap50", null), ("raccoon-voc val", "AP", null)],
        _ => throw new ArgumentException($"--sets takes {string.Join(" and/or ", Sets)} (got '{set}')."),
    };

    /// <summary>The file each synthetic run's held-out evaluation is written to (<c>eval detect --json</c>).</summary>
    public const string HeldOutFile = "heldout.json";

    /// <summary>Pairs e2e's and the compared method's runs by seed; seeds without a finite value on both sides are left out.</summary>
    public static PairedRow Pair(string testSet, string metric, IReadOnlyList<RunSummary> e2e, IReadOnlyList<RunSummary> compared)
    {
        var bySeed = new Dictionary<long, double>();
        foreach (var r in e2e)
            if (!bySeed.TryAdd(r.Seed, r.Final)) throw new ArgumentException($"two e2e runs with seed {r.Seed} ({r.Name}).");
        var pairs = new SortedDictionary<long, (double E, double C)>();
        foreach (var r in compared)
        {
            if (pairs.ContainsKey(r.Seed)) throw new ArgumentException($"two {r.Method} runs with seed {r.Seed} ({r.Name}).");
            if (bySeed.TryGetValue(r.Seed, out double e) && double.IsFinite(e) && double.IsFinite(r.Final)) pairs[r.Seed] = (e, r.Final);
        }
        return new PairedRow(testSet, metric, [.. pairs.Keys], [.. pairs.Values.Select(p => p.E)], [.. pairs.Values.Select(p => p.C)]);
    }

    /// <summary>Seeds from a list of numbers and ranges: <c>0-5</c>, <c>0,2,4</c>, <c>0-2,7</c>.</summary>
    public static long[] ParseSeeds(string text, string option)
    {
        var seeds = new SortedSet<long>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int dash = part.IndexOf('-', 1);
            if (dash > 0 && long.TryParse(part[..dash], NumberStyles.Integer, CultureInfo.InvariantCulture, out long a)
                && long.TryParse(part[(dash + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out long b) && a >= 0 && b >= a)
            {
                if (b - a > 1000) throw new ArgumentException($"{option} {text}: the range {part} is longer than 1,000 seeds.");
                for (long s = a; s <= b; s++) seeds.Add(s);
            }
            else if (dash < 0 && long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out long s) && s >= 0) seeds.Add(s);
            else throw new ArgumentException($"{option} {text}: '{part}' is neither a seed nor a range like 0-5.");
        }
        if (seeds.Count == 0) throw new ArgumentException($"{option} names no seed (give e.g. 0-5 or 0,1,2).");
        return [.. seeds];
    }

    private static List<int> ParseMilestones(string text) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p =>
            int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
                : throw new ArgumentException($"--milestones {text}: '{p}' is not a whole number (give e.g. 5,7)."))];

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var inv = CultureInfo.InvariantCulture;
        var dataRoot = new Option<string>("--data-root") { Description = "Folder with raccoon-voc/ (and cifar10-jpeg.tar.gz for the pretraining; default $MAN_DATA or ../shared/data).", DefaultValueFactory = _ => DataPaths.Root() ?? Path.Combine("..", "shared", "data") };
        var sets = new Option<string>("--sets") { Description = "synth (the synthetic default: its val split and a held-out rendering) and/or raccoon (raccoon-voc).", DefaultValueFactory = _ => "synth,raccoon" };
        var seeds = new Option<string>("--seeds") { Description = "Seeds of the synthetic runs, e.g. 0-5 or 0,2,4.", DefaultValueFactory = _ => "0-5" };
        var raccoonSeeds = new Option<string>("--raccoon-seeds") { Description = "Seeds of the raccoon-voc runs.", DefaultValueFactory = _ => "0-6" };
        var pretrained = new Option<string?>("--pretrained")
        {
            Description = "Backbone weights to fine-tune (torchvision .pth/.safetensors or a train classify checkpoint); 'none' trains from scratch; default: pretrain on CIFAR-10 first (--pretrain-epochs).",
        };
        var pretrainEpochs = new Option<int>("--pretrain-epochs") { Description = "Epochs of the CIFAR-10 pretraining when no --pretrained is given.", DefaultValueFactory = _ => 10 };
        var backbone = new Option<string>("--backbone") { DefaultValueFactory = _ => "resnet18" };
        var method = new Option<string>("--method") { Description = "The method compared with e2e: greedy | man | manpp.", DefaultValueFactory = _ => "manpp" };
        var k = new Option<int>("--k") { DefaultValueFactory = _ => 4 };
        var split = new Option<string>("--split") { DefaultValueFactory = _ => "balanced" };
        var auxHead = new Option<string>("--aux-head") { Description = "dense | rcnn (see train detect).", DefaultValueFactory = _ => "dense" };
        var earlyLr = new Option<double>("--early-lr-scale") { DefaultValueFactory = _ => 1.0 };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 8 };
        var milestones = new Option<string>("--milestones") { DefaultValueFactory = _ => "5,7" };
        var lr = new Option<double>("--lr") { Description = "Base learning rate of every run (batch 4).", DefaultValueFactory = _ => 0.01 };
        var synthImages = new Option<int>("--synth-images") { Description = "Images of the synthetic training set (train + val).", DefaultValueFactory = _ => 300 };
        var heldoutImages = new Option<int>("--heldout-images") { Description = "Images rendered for the held-out set (its 80 % train part is evaluated).", DefaultValueFactory = _ => 375 };
        var heldoutSeed = new Option<int>("--heldout-seed") { Description = "Renderer seed of the held-out set (the training set uses 0).", DefaultValueFactory = _ => 7 };
        var maxBatches = new Option<int>("--max-batches") { Description = "Cap every epoch of every run at N batches (0 = all; for a smoke run).", DefaultValueFactory = _ => 0 };
        var evalImages = new Option<int>("--eval-images") { Description = "Evaluate only the first N images during training (0 = all; for a smoke run).", DefaultValueFactory = _ => 0 };
        var jobs = new Option<int>("--jobs") { Description = "Trainings run side by side.", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { Description = "Torch threads per training (0 = the cores divided by --jobs).", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string>("--out") { Description = "Folder of the runs, logs and detect-accuracy.json (use another one for another pretraining or schedule).", DefaultValueFactory = _ => Path.Combine("runs", "detect-accuracy") };
        var cmd = new Command("detect-accuracy", "e2e against MAN++ K = 4 (or another method) on one detection schedule over several seeds: synthetic val, synthetic held out and raccoon-voc, paired by seed.")
        {
            dataRoot, sets, seeds, raccoonSeeds, pretrained, pretrainEpochs, backbone, method, k, split, auxHead, earlyLr, epochs, milestones, lr,
            synthImages, heldoutImages, heldoutSeed, maxBatches, evalImages, jobs, threads, outDir,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            // Everything is checked before the first run starts.
            string root = r.GetValue(dataRoot)!, outRoot = Path.GetFullPath(r.GetValue(outDir)!), bb = r.GetValue(backbone)!;
            var setList = r.GetValue(sets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
            if (setList.Count == 0) throw new ArgumentException("--sets names no data set (give synth and/or raccoon).");
            foreach (var s in setList) _ = Evaluations(s);
            var compared = LocalMethods.Parse(r.GetValue(method)!);
            if (compared == LocalMethod.E2E) throw new ArgumentException("--method e2e: the benchmark compares e2e with a local-learning method (greedy, man or manpp).");
            int kk = r.GetValue(k), jobCount = r.GetValue(jobs), epochCount = r.GetValue(epochs);
            if (kk < 2) throw new ArgumentException($"--k {kk}: local learning needs at least 2 blocks.");
            if (jobCount < 1) throw new ArgumentException($"--jobs must be at least 1 (got {jobCount}).");
            if (epochCount < 1) throw new ArgumentException($"--epochs must be at least 1 (got {epochCount}).");
            _ = ResNetFactory.Options(bb); // an unknown backbone names the valid ones
            // The compared method's options as train detect checks them (head kind, milestones, early rate, method and K).
            _ = new DetectionTrainOptions
            {
                Backbone = bb, Method = compared, K = kk, Split = r.GetValue(split)!, Epochs = epochCount, AuxHead = r.GetValue(auxHead)!,
                EarlyLrScale = r.GetValue(earlyLr), Milestones = ParseMilestones(r.GetValue(milestones)!), LearningRate = r.GetValue(lr),
                InitializeCopiesFromUnit = compared is LocalMethod.Man or LocalMethod.ManPlusPlus,
            }.Validate();
            var seedsOf = new Dictionary<string, long[]>
            {
                ["synth"] = ParseSeeds(r.GetValue(seeds)!, "--seeds"),
                ["raccoon"] = ParseSeeds(r.GetValue(raccoonSeeds)!, "--raccoon-seeds"),
            };
            string raccoon = Path.GetFullPath(Path.Combine(root, "raccoon-voc")), cifar = Path.GetFullPath(Path.Combine(root, "cifar10-jpeg.tar.gz"));
            if (setList.Contains("raccoon") && !Directory.Exists(raccoon))
                throw new DirectoryNotFoundException($"{raccoon} is missing: --data-root must hold raccoon-voc/ for --sets raccoon (see datasets/README.md).");
            // Read once here (annotations and split lists), so that a malformed folder is named before any run rather than by every child.
            if (setList.Contains("raccoon")) _ = DetectionData.Open("voc:" + raccoon, new DetectionDataOptions());
            string? pre = r.GetValue(pretrained);
            if (pre is null && !File.Exists(cifar))
                throw new FileNotFoundException($"{cifar} is missing: without --pretrained the benchmark pretrains on CIFAR-10 first (or give --pretrained PATH, or 'none').");
            if (pre is not null && pre != "none")
                pre = File.Exists(pre) ? Path.GetFullPath(pre) : throw new FileNotFoundException($"--pretrained {pre}: no such file.");
            int threadCount = r.GetValue(threads) is > 0 and var t ? t : Math.Max(1, Environment.ProcessorCount / jobCount);
            string thr = threadCount.ToString(inv), mb = r.GetValue(maxBatches).ToString(inv), ev = r.GetValue(evalImages).ToString(inv);
            Directory.CreateDirectory(outRoot);

            if (pre is null)
            {
                int preEpochs = r.GetValue(pretrainEpochs);
                string pretrainRun = Path.Combine(outRoot, $"pretrain-cifar10-{bb}");
                TransferBenchmark.RunStage("pretrain", pretrainRun, preEpochs,
                [
                    "train", "classify", "--data", "cifar10:" + cifar, "--arch", bb, "--method", "e2e", "--k", "1", "--epochs", preEpochs.ToString(inv),
                    "--batch-size", "128", "--lr", "0.1", "--weight-decay", "0.0005", "--seed", "0", "--max-batches", mb, "--test-size", ev,
                    "--threads", Environment.ProcessorCount.ToString(inv), "--out", pretrainRun,
                ]);
                pre = Path.Combine(pretrainRun, "last.ckpt");
            }

            string? heldOutJson = null;
            if (setList.Contains("synth"))
            {
                int n = r.GetValue(heldoutImages), hs = r.GetValue(heldoutSeed);
                string held = Path.Combine(outRoot, $"heldout-synth-n{n}-seed{hs}");
                heldOutJson = Path.Combine(held, "coco", "instances_train.json");
                if (!File.Exists(heldOutJson))
                {
                    AnsiConsole.MarkupLine($"rendering the held-out set ({n} images, renderer seed {hs}) → {Markup.Escape(held)}");
                    string staging = $"{held}.tmp-{Environment.ProcessId}";
                    if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
                    SyntheticDataWriter.Write(SyntheticTask.Detect, staging, n, hs);
                    if (Directory.Exists(held)) Directory.Delete(held, recursive: true);
                    Directory.Move(staging, held);
                }
            }

            string localTag = $"{compared.Name()}-k{kk}-{r.GetValue(split)}-{r.GetValue(auxHead)}"
                + (r.GetValue(earlyLr) == 1.0 ? "" : $"-early{r.GetValue(earlyLr).ToString("R", inv)}");
            var specs = new List<RunSpec>();
            foreach (long seed in seedsOf.Values.SelectMany(v => v).Distinct().Order())
                foreach (var set in setList.Where(s => seedsOf[s].Contains(seed)))
                {
                    specs.Add(new RunSpec(set, "e2e", seed, $"{set}-e2e-s{seed}"));
                    specs.Add(new RunSpec(set, compared.Name(), seed, $"{set}-{localTag}-s{seed}"));
                }

            List<string> Args(RunSpec spec)
            {
                bool local = spec.Method != "e2e";
                var a = new List<string>
                {
                    "train", "detect", "--data", spec.Set == "synth" ? "synth" : "voc:" + raccoon, "--synth-images", r.GetValue(synthImages).ToString(inv),
                    "--backbone", bb, "--method", spec.Method, "--k", local ? kk.ToString(inv) : "1",
                    "--epochs", epochCount.ToString(inv), "--milestones", r.GetValue(milestones)!, "--batch-size", "4", "--lr", r.GetValue(lr).ToString("R", inv), "--warmup-iters", "50",
                    "--min-size", "192", "--max-size", "256", "--roi-samples", "128", "--rpn-post-nms-train", "1000", "--rpn-post-nms-test", "300",
                    "--seed", spec.Seed.ToString(inv), "--max-batches", mb, "--max-eval-images", ev, "--threads", thr, "--out", Path.Combine(outRoot, spec.Name),
                };
                if (local)
                {
                    a.AddRange(["--split", r.GetValue(split)!, "--aux-head", r.GetValue(auxHead)!, "--early-lr-scale", r.GetValue(earlyLr).ToString("R", inv)]);
                    if (compared is LocalMethod.Man or LocalMethod.ManPlusPlus) a.Add("--init-copies-from-unit");
                }
                // torchvision's pretrained default (3 trainable stages) with trainable batch norm: the pretraining's
                // statistics come from 32² images.
                if (pre != "none") a.AddRange(["--pretrained", pre, "--trainable-layers", "3", "--backbone-norm", "bn"]);
                return a;
            }

            // What a run folder found under a spec's name must have been trained with to be reused or resumed.
            Dictionary<string, JToken?> Expected(RunSpec spec)
            {
                bool local = spec.Method != "e2e";
                var e = new Dictionary<string, JToken?>
                {
                    ["method"] = spec.Method, ["k"] = local ? kk : 1, ["seed"] = spec.Seed, ["backbone"] = bb, ["lr"] = r.GetValue(lr),
                    ["pretrained"] = pre == "none" ? JValue.CreateNull() : pre,
                };
                if (local)
                {
                    e["aux_head"] = r.GetValue(auxHead);
                    e["early_lr_scale"] = r.GetValue(earlyLr);
                }
                return e;
            }

            AnsiConsole.MarkupLine($"{specs.Count} trainings ({string.Join(", ", setList.Select(s => $"{s}: seeds {string.Join(",", seedsOf[s])}"))}), {jobCount} side by side, {threadCount} thread(s) each; logs in {Markup.Escape(Path.Combine(outRoot, "logs"))}");
            var failures = new List<string>();
            var gate = new object();
            var clock = Stopwatch.StartNew();
            int finished = 0, trained = 0;
            double trainedMinutes = 0;
            // Taken one at a time in list order (a list's default partitioning would hand each worker a range), so that
            // the two runs of a seed finish close together and a stop leaves whole pairs.
            Parallel.ForEach(Partitioner.Create(specs, EnumerablePartitionerOptions.NoBuffering), new ParallelOptions { MaxDegreeOfParallelism = jobCount }, spec =>
            {
                string run = Path.Combine(outRoot, spec.Name), log = Path.Combine(outRoot, "logs", spec.Name + ".log");
                var started = Stopwatch.StartNew();
                bool reused = TransferBenchmark.Completed(Path.Combine(run, "metrics.json"), epochCount);
                string? error = reused || File.Exists(Path.Combine(run, "metrics.json")) ? Mismatch(run, Expected(spec)) : null;
                if (!reused && error is null)
                {
                    lock (gate) AnsiConsole.MarkupLine($"[bold]start[/] {Markup.Escape(spec.Name)}{(File.Exists(Path.Combine(run, "last.ckpt")) ? " (resuming)" : "")}");
                    error = TransferBenchmark.TryRunStage(spec.Name, run, epochCount, Args(spec), log);
                }
                if (error is null && spec.Set == "synth")
                {
                    string json = Path.Combine(run, HeldOutFile), ckpt = Path.Combine(run, "last.ckpt");
                    if (!File.Exists(json) || File.GetLastWriteTimeUtc(json) < File.GetLastWriteTimeUtc(ckpt))
                    {
                        int code = BenchHarness.RunChildLogged(
                            ["eval", "detect", "--checkpoint", ckpt, "--data", "coco:" + heldOutJson!, "--json", json, "--threads", thr], log);
                        if (code != 0) error = $"{spec.Name}: the held-out evaluation failed with exit code {code}; {TransferBenchmark.WhatTheLogSays(log)}.";
                    }
                }
                lock (gate)
                {
                    finished++;
                    if (!reused && error is null) { trained++; trainedMinutes += started.Elapsed.TotalMinutes; }
                    if (error is not null)
                    {
                        failures.Add(error);
                        AnsiConsole.MarkupLine($"[red]failed:[/] {Markup.Escape(error)}");
                        return;
                    }
                    string values = string.Join(", ", Evaluations(spec.Set).Select(e =>
                        $"{e.TestSet} {e.Metric} {RunReport.Load(run, e.Metric, null, e.EvalFile).Final.ToString("0.00", inv)}"));
                    int left = specs.Count - finished;
                    string eta = trained > 0 ? TimeSpan.FromMinutes(trainedMinutes / trained * Math.Ceiling(left / (double)jobCount)).ToString(@"h\:mm\:ss", inv) : "–";
                    AnsiConsole.MarkupLine($"[[{finished}/{specs.Count}]] {Markup.Escape(spec.Name)}{(reused ? " (reused)" : $" in {started.Elapsed.TotalMinutes:0.0} min")}: "
                        + $"{Markup.Escape(values)} | elapsed {clock.Elapsed.ToString(@"h\:mm\:ss", inv)}, ETA {eta}");
                }
            });
            if (failures.Count > 0)
                throw new InvalidOperationException($"{failures.Count} of {specs.Count} runs failed ({string.Join("; ", failures.Select(f => f.TrimEnd('.')))}); the finished runs are kept: run the command again to resume.");

            var rows = new List<PairedRow>();
            foreach (var set in setList)
                foreach (var (testSet, metric, evalFile) in Evaluations(set))
                {
                    RunSummary Load(RunSpec s) => RunReport.Load(Path.Combine(outRoot, s.Name), metric, null, evalFile);
                    rows.Add(Pair(testSet, metric, [.. specs.Where(s => s.Set == set && s.Method == "e2e").Select(Load)],
                        [.. specs.Where(s => s.Set == set && s.Method != "e2e").Select(Load)]));
                }
            string label = $"{compared.Name()} K = {kk} ({r.GetValue(split)}, {r.GetValue(auxHead)} heads{(r.GetValue(earlyLr) == 1.0 ? "" : $", early rate ×{r.GetValue(earlyLr).ToString("R", inv)}")})";
            Print(rows, label);
            var doc = new JObject
            {
                ["compared"] = label, ["backbone"] = bb, ["method"] = compared.Name(), ["k"] = kk, ["split"] = r.GetValue(split), ["aux_head"] = r.GetValue(auxHead),
                ["early_lr_scale"] = r.GetValue(earlyLr), ["lr"] = r.GetValue(lr), ["epochs"] = epochCount, ["milestones"] = r.GetValue(milestones), ["pretrained"] = pre,
                ["max_batches"] = r.GetValue(maxBatches), ["eval_images"] = r.GetValue(evalImages),
                ["rows"] = new JArray(rows.Select(ToJson)),
            };
            string path = Path.Combine(outRoot, "detect-accuracy.json"), tmp = path + ".tmp";
            File.WriteAllText(tmp, doc.ToString(Formatting.Indented));
            File.Move(tmp, path, overwrite: true);
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(path)}");
            return 0;
        }));
        return cmd;
    }

    /// <summary>
    /// Null when the run folder's metrics.json records every <paramref name="expected"/> setting (JSON-equal; paths
    /// compared as full paths), else a message naming the run, the setting and both values.
    /// </summary>
    public static string? Mismatch(string run, IReadOnlyDictionary<string, JToken?> expected)
    {
        string path = Path.Combine(run, "metrics.json");
        JObject doc;
        try
        {
            doc = JObject.Parse(File.ReadAllText(path));
        }
        catch (JsonReaderException e)
        {
            return $"{path}: not valid json ({e.Message}); delete the run folder to train it again.";
        }
        foreach (var (key, want) in expected)
        {
            var have = doc[key];
            bool same = (want is null || want.Type == JTokenType.Null)
                ? have is null || have.Type == JTokenType.Null
                : have is not null && (JToken.DeepEquals(have, want)
                    || key == "pretrained" && have.Type == JTokenType.String && Path.GetFullPath(have.Value<string>()!) == Path.GetFullPath(want.Value<string>()!)
                    || have.Type is JTokenType.Integer or JTokenType.Float && want.Type is JTokenType.Integer or JTokenType.Float && have.Value<double>() == want.Value<double>());
            if (!same)
                return $"{run} was trained with {key} = {Show(have)}, this benchmark asks for {Show(want)}: give another --out, or delete the run folder.";
        }
        return null;
        static string Show(JToken? t) => t is null || t.Type == JTokenType.Null ? "none" : t.ToString(Formatting.None);
    }

    /// <summary>Prints the paired table: e2e and the compared method per test set, mean ± sd, the paired difference.</summary>
    public static void Print(IReadOnlyList<PairedRow> rows, string comparedLabel)
    {
        var inv = CultureInfo.InvariantCulture;
        string F(double v) => double.IsFinite(v) ? v.ToString("0.00", inv) : "–";
        string D(double v) => double.IsFinite(v) ? v.ToString("+0.00;-0.00;0.00", inv) : "–";
        var table = new Table().AddColumns("test set", "metric", "seeds", "e2e (mean ± sd)", $"{Markup.Escape(comparedLabel)} (mean ± sd)",
            "paired Δ (mean ± sd; standard error)", "ahead at", "within 1 point");
        foreach (var row in rows)
            table.AddRow(Markup.Escape(row.TestSet), row.Metric, string.Join(",", row.Seeds.Select(s => s.ToString(inv))),
                $"{F(row.E2eMean)} ± {F(row.E2eSd)}", $"{F(row.ComparedMean)} ± {F(row.ComparedSd)}",
                $"{D(row.DeltaMean)} ± {F(row.DeltaSd)}; {F(row.DeltaSe)}", $"{row.Ahead} of {row.Seeds.Length}",
                row.Seeds.Length == 0 ? "–" : row.DeltaMean >= -1.0 ? "yes" : "no");
        AnsiConsole.Write(table);
    }

    /// <summary>A row as json: the values per seed and the statistics (NaN as null).</summary>
    public static JObject ToJson(PairedRow row)
    {
        static JToken N(double v) => double.IsFinite(v) ? v : JValue.CreateNull();
        return new JObject
        {
            ["test_set"] = row.TestSet, ["metric"] = row.Metric, ["seeds"] = new JArray(row.Seeds),
            ["e2e"] = new JArray(row.E2e), ["compared"] = new JArray(row.Compared), ["deltas"] = new JArray(row.Deltas),
            ["e2e_mean"] = N(row.E2eMean), ["e2e_sd"] = N(row.E2eSd), ["compared_mean"] = N(row.ComparedMean), ["compared_sd"] = N(row.ComparedSd),
            ["delta_mean"] = N(row.DeltaMean), ["delta_sd"] = N(row.DeltaSd), ["delta_se"] = N(row.DeltaSe), ["ahead"] = row.Ahead,
        };
    }
}
