using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Man.Local;
using Man.Local.Training;
using Man.Runtime;
using Man.Vision.Detection.LocalLearning;
using Man.Vision.Detection.Models;
using Man.Vision.Detection.Ops;
using Man.Vision.Detection.Training;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Cli.Commands;

/// <summary>
/// Detection benchmarks: <c>bench nms</c>, <c>bench detect-memory</c> (e2e vs local learning, each configuration in a fresh
/// process) and <c>bench detect-inference</c> (images/s against torchvision's <c>fasterrcnn_resnet50_fpn</c>).
/// </summary>
public static class DetectBenchCommands
{
    /// <summary>The name of the torchvision reference script, looked up under <c>src/Man.Vision.Detection/Inference/</c>.</summary>
    public const string TorchvisionScript = "bench_torchvision_inference.py";

    /// <summary><c>bench nms</c>: median time of NMS on random boxes.</summary>
    public static Command Nms()
    {
        var boxes = new Option<int>("--boxes") { DefaultValueFactory = _ => 5000 };
        var iou = new Option<double>("--iou") { DefaultValueFactory = _ => 0.5 };
        var repeats = new Option<int>("--repeats") { DefaultValueFactory = _ => 21 };
        var json = new Option<string?>("--json") { Description = "Write the result here as json." };
        var cmd = new Command("nms", "Median wall time of NMS on random boxes (1000×1000 image, sides 10..110).") { boxes, iou, repeats, json };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            int n = r.GetValue(boxes);
            // Warm-up pass: lets the JIT's tiered compilation reach the optimised suppression loop before timing.
            NmsBenchmark.Run(n, r.GetValue(iou), 30, seed: 1);
            double ms = NmsBenchmark.Run(n, r.GetValue(iou), r.GetValue(repeats));
            AnsiConsole.MarkupLine($"NMS of {n} boxes at IoU {r.GetValue(iou).ToString(CultureInfo.InvariantCulture)}: median {ms.ToString("0.00", CultureInfo.InvariantCulture)} ms over {r.GetValue(repeats)} runs");
            if (r.GetValue(json) is string path)
                File.WriteAllText(path, new JObject { ["benchmark"] = "nms", ["boxes"] = n, ["iou"] = r.GetValue(iou), ["repeats"] = r.GetValue(repeats), ["median_ms"] = ms }.ToString(Formatting.Indented));
            return 0;
        }));
        return cmd;
    }

    /// <summary><c>bench detect-memory</c>: peak RSS and median step time of each configuration in a fresh process.</summary>
    public static Command Memory()
    {
        var backbone = new Option<string>("--backbone") { DefaultValueFactory = _ => "resnet50" };
        var height = new Option<int>("--height") { DefaultValueFactory = _ => 800 };
        var width = new Option<int>("--width") { DefaultValueFactory = _ => 1333 };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 2 };
        var configs = new Option<string>("--configs") { Description = "method:K:split[:aux] entries, comma-separated (aux: the early blocks' auxiliary head, dense (default) or rcnn).", DefaultValueFactory = _ => "e2e:1:stages,manpp:4:stages" };
        var steps = new Option<int>("--steps") { Description = "Timed steps per configuration (after one warm-up step).", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<string?>("--json") { DefaultValueFactory = _ => "bench-detect-memory.json" };
        var cmd = new Command("detect-memory", "Faster R-CNN training memory and step time, e2e vs local learning, each configuration in a fresh process.")
        { backbone, height, width, batch, configs, steps, threads, json };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var list = r.GetValue(configs)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(c =>
            {
                var parts = c.Split(':');
                if (parts.Length is < 2 or > 4 || !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int k))
                    throw new ArgumentException($"--configs entry '{c}' must be method:K, method:K:split or method:K:split:aux.");
                string aux = parts.Length == 4 ? parts[3] : "dense";
                AuxHeadOptions.Parse(aux, 16);
                return new DetectMemoryConfig(r.GetValue(backbone)!, r.GetValue(height), r.GetValue(width), r.GetValue(batch),
                    LocalMethods.Parse(parts[0]).Name(), k, parts.Length >= 3 ? parts[2] : "stages", aux);
            }).ToList();
            return RunAll(list, r.GetValue(steps), r.GetValue(threads), r.GetValue(json));
        }));
        return cmd;
    }

    /// <summary>The hidden child of <c>bench detect-memory</c>: one configuration in this process, one json line out.</summary>
    public static Command MemoryOne()
    {
        var backbone = new Option<string>("--backbone") { Required = true };
        var height = new Option<int>("--height") { Required = true };
        var width = new Option<int>("--width") { Required = true };
        var batch = new Option<int>("--batch") { Required = true };
        var method = new Option<string>("--method") { Required = true };
        var k = new Option<int>("--k") { Required = true };
        var split = new Option<string>("--split") { DefaultValueFactory = _ => "stages" };
        var aux = new Option<string>("--aux-head") { DefaultValueFactory = _ => "dense" };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("detect-memory-one", "One configuration of `bench detect-memory` in this process (prints one json line).")
        { backbone, height, width, batch, method, k, split, aux, steps, threads };
        cmd.Hidden = true;
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var c = new DetectMemoryConfig(r.GetValue(backbone)!, r.GetValue(height), r.GetValue(width), r.GetValue(batch), r.GetValue(method)!, r.GetValue(k), r.GetValue(split)!,
                r.GetValue(aux)!);
            Console.WriteLine(JsonConvert.SerializeObject(RunOne(c, r.GetValue(steps), r.GetValue(threads))));
            return 0;
        }));
        return cmd;
    }

    /// <summary><c>bench detect-inference</c>: our fasterrcnn_resnet50_fpn against torchvision's on one image size.</summary>
    public static Command Inference()
    {
        var height = new Option<int>("--height") { DefaultValueFactory = _ => 800 };
        var width = new Option<int>("--width") { DefaultValueFactory = _ => 1216 };
        var images = new Option<int>("--images") { Description = "Timed images (batch 1) after the warm-up.", DefaultValueFactory = _ => 3 };
        var warmup = new Option<int>("--warmup") { DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 2 };
        var python = new Option<string>("--python") { Description = "Python with torch and torchvision (Debian's).", DefaultValueFactory = _ => "/usr/bin/python3" };
        var script = new Option<string?>("--script") { Description = $"Path of {TorchvisionScript} (default: found from the program's or the current folder)." };
        var skipTorchvision = new Option<bool>("--skip-torchvision") { Description = "Measure only our implementation." };
        var json = new Option<string?>("--json") { DefaultValueFactory = _ => "bench-detect-inference.json" };
        var cmd = new Command("detect-inference", "Inference images/s of our fasterrcnn_resnet50_fpn vs torchvision's (random weights, same image and threads).")
        { height, width, images, warmup, threads, python, script, skipTorchvision, json };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            int h = r.GetValue(height), w = r.GetValue(width), n = r.GetValue(images), warm = r.GetValue(warmup), th = r.GetValue(threads);
            if (h < 32 || w < 32 || n < 1 || warm < 0 || th < 1) throw new ArgumentException("Sizes must be ≥ 32, --images ≥ 1, --warmup ≥ 0, --threads ≥ 1.");
            Devices.SetThreads(th);
            var inv = CultureInfo.InvariantCulture;
            JObject? reference = null;
            string? weights = null;
            if (!r.GetValue(skipTorchvision))
            {
                // torchvision first: it saves its random weights, which our model (same state-dict keys) then loads, so both
                // run the identical detector and do the same post-processing work.
                string path = r.GetValue(script) ?? FindScript();
                weights = Path.Combine(Path.GetTempPath(), $"man-vision-bench-fasterrcnn-{Environment.ProcessId}.pth");
                reference = RunPython(r.GetValue(python)!, path, h, w, n, warm, th, weights);
            }
            (double SecondsPerImage, double[] All, long Detections, string? Load) ours;
            try
            {
                ours = MeasureOurs(h, w, n, warm, weights);
            }
            finally
            {
                if (weights is not null) File.Delete(weights);
            }
            if (ours.Load is not null) AnsiConsole.MarkupLine($"weights: {Markup.Escape(ours.Load)}");
            AnsiConsole.MarkupLine($"man-vision (TorchSharp {Markup.Escape(BuildInfo.TorchSharpVersion)}): {ours.SecondsPerImage.ToString("0.000", inv)} s/image, " +
                                   $"{(1 / ours.SecondsPerImage).ToString("0.000", inv)} images/s, {ours.Detections} detections");
            var doc = new JObject
            {
                ["benchmark"] = "detect-inference", ["model"] = "fasterrcnn_resnet50_fpn (random weights, 91 classes)", ["height"] = h, ["width"] = w,
                ["images"] = n, ["threads"] = th, ["same_weights"] = weights is not null,
                ["man_vision"] = new JObject
                {
                    ["seconds_per_image"] = ours.SecondsPerImage, ["images_per_second"] = 1 / ours.SecondsPerImage, ["all_seconds"] = new JArray(ours.All),
                    ["detections_last_image"] = ours.Detections,
                },
            };
            int code = 0;
            if (reference is not null)
            {
                double theirs = reference.Value<double>("seconds_per_image");
                AnsiConsole.MarkupLine($"torchvision {Markup.Escape(reference.Value<string>("torchvision") ?? "?")} (torch {Markup.Escape(reference.Value<string>("torch") ?? "?")}): " +
                                       $"{theirs.ToString("0.000", inv)} s/image, {(1 / theirs).ToString("0.000", inv)} images/s, {reference.Value<long>("detections_last_image")} detections");
                AnsiConsole.MarkupLine($"[bold]speed vs torchvision: {(theirs / ours.SecondsPerImage).ToString("0.00", inv)}×[/] (images/s ratio, ≥ 1 is faster)");
                doc["torchvision"] = reference;
                doc["speed_vs_torchvision"] = theirs / ours.SecondsPerImage;
            }
            if (r.GetValue(json) is string jsonPath)
            {
                File.WriteAllText(jsonPath, doc.ToString(Formatting.Indented));
                AnsiConsole.MarkupLine($"wrote {Markup.Escape(jsonPath)}");
            }
            return code;
        }));
        return cmd;
    }

    /// <summary>Runs one memory configuration in this process: a few training steps on random images with random boxes.</summary>
    public static DetectMemoryResult RunOne(DetectMemoryConfig c, int steps, int threads)
    {
        Devices.SetThreads(threads);
        var classes = Enumerable.Range(1, 90).Select(i => $"c{i}").ToArray();
        var config = new DetectionModelConfig(c.Backbone, LocalMethods.Parse(c.Method), c.K, c.Split, classes, Enumerable.Range(1, 90).ToArray(),
            Math.Min(c.Height, c.Width), Math.Max(c.Height, c.Width), TrainableLayers: 5, FrozenBatchNorm: false, AuxHead: c.AuxHead);
        using var model = DetectionModel.Create(config, seed: 0);
        using var trainer = new LocalTrainer<DetectionTargets>(model.Learner, new TrainerOptions
        {
            Schedule = new LearningRateSchedule { Kind = ScheduleKind.Constant, BaseLr = 0.005, TotalSteps = steps + 1 },
            Momentum = 0.9, Nesterov = false, WeightDecay = 1e-4,
        });
        var g = new Generator().manual_seed(0);
        long ph = (c.Height + 31) / 32 * 32, pw = (c.Width + 31) / 32 * 32;
        using var images = torch.zeros([c.Batch, 3, ph, pw]);
        images[.., .., ..c.Height, ..c.Width] = torch.randn([c.Batch, 3, c.Height, c.Width], generator: g);
        var targets = new List<DetectionTarget>();
        for (int b = 0; b < c.Batch; b++)
        {
            var xy = torch.rand([5, 2], generator: g) * torch.tensor(new float[] { c.Width * 0.7f, c.Height * 0.7f });
            var wh = torch.rand([5, 2], generator: g) * torch.tensor(new float[] { c.Width * 0.3f, c.Height * 0.3f }) + 16;
            targets.Add(new DetectionTarget(torch.cat([xy, xy + wh], 1), torch.randint(1, 91, [5], generator: g, dtype: ScalarType.Int64)));
        }
        var target = new DetectionTargets(targets, Enumerable.Repeat(new ImageSize(c.Height, c.Width), c.Batch).ToArray(), new ImageSize(ph, pw));
        var learner = model.Learner;
        var m = BenchHarness.MeasureSteps(() => trainer.TrainStep(images, target), steps, learner.Plan.K, record => learner.AfterBlockBackward += (b, _) => record(b));
        long parameters = learner.parameters().Sum(p => p.numel());
        return new DetectMemoryResult(c, m.FloorMiB, m.PeakMiB, m.StepMsMedian, learner.Plan.ToString(), steps, threads, m.BlockPeaksMiB, parameters);
    }

    private static int RunAll(IReadOnlyList<DetectMemoryConfig> configs, int steps, int threads, string? jsonPath)
    {
        var results = new List<DetectMemoryResult>();
        var inv = CultureInfo.InvariantCulture;
        int i = 0;
        foreach (var c in configs)
        {
            i++;
            Console.WriteLine($"[{i}/{configs.Count}] {c.Backbone}-FPN batch {c.Batch} {c.Height}×{c.Width} {c.Method} K={c.K} ({c.Split}{(c.K > 1 ? $", {c.AuxHead} auxiliary heads" : "")}) …");
            var result = BenchHarness.RunJsonChild<DetectMemoryResult>(
            [
                "bench", "detect-memory-one", "--backbone", c.Backbone, "--height", c.Height.ToString(inv), "--width", c.Width.ToString(inv),
                "--batch", c.Batch.ToString(inv), "--method", c.Method, "--k", c.K.ToString(inv), "--split", c.Split,
                "--aux-head", c.AuxHead, "--steps", steps.ToString(inv), "--threads", threads.ToString(inv),
            ], out string error);
            if (result is null) CliErrors.Error($"configuration {c} failed ({error})");
            else results.Add(result);
        }
        var e2e = results.FirstOrDefault(r => r.Config.K == 1);
        var table = new Table().AddColumns("model", "batch", "method", "K", "aux head", "blocks (units)", "floor MiB", "peak MiB", "peak/e2e", "step ms", "step/e2e");
        foreach (var r in results)
            table.AddRow(Markup.Escape($"{r.Config.Backbone}-FPN"), $"{r.Config.Batch}×{r.Config.Height}×{r.Config.Width}", r.Config.Method, r.Config.K.ToString(inv), r.Config.K > 1 ? r.Config.AuxHead : "-", Markup.Escape(r.Plan),
                r.FloorMiB.ToString("0", inv), r.PeakMiB.ToString("0", inv), e2e is null ? "-" : (r.PeakMiB / e2e.PeakMiB).ToString("0.00", inv),
                r.StepMsMedian.ToString("0", inv), e2e is null ? "-" : (r.StepMsMedian / e2e.StepMsMedian).ToString("0.00", inv));
        AnsiConsole.Write(table);
        if (jsonPath is not null)
        {
            var doc = new JObject
            {
                ["benchmark"] = "detect-memory", ["threads"] = threads, ["steps"] = steps,
                ["results"] = JArray.FromObject(results.Select(r => new
                {
                    r.Config.Backbone, r.Config.Height, r.Config.Width, r.Config.Batch, r.Config.Method, r.Config.K, aux_head = r.Config.K > 1 ? r.Config.AuxHead : null, r.Plan,
                    floor_mib = Math.Round(r.FloorMiB, 1), peak_mib = Math.Round(r.PeakMiB, 1), parameters = r.Parameters, block_peaks_mib = r.BlockPeaksMiB, step_ms = Math.Round(r.StepMsMedian, 1),
                    peak_vs_e2e = e2e is null ? (double?)null : Math.Round(r.PeakMiB / e2e.PeakMiB, 3),
                    step_vs_e2e = e2e is null ? (double?)null : Math.Round(r.StepMsMedian / e2e.StepMsMedian, 3),
                })),
            };
            File.WriteAllText(jsonPath, doc.ToString(Formatting.Indented));
            Console.WriteLine($"wrote {jsonPath}");
        }
        return results.Count == configs.Count ? 0 : 1;
    }

    private static (double SecondsPerImage, double[] All, long Detections, string? Load) MeasureOurs(int height, int width, int images, int warmup, string? weights)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(0);
        var options = new FasterRcnnOptions
        {
            NumClasses = 91,
            Transform = new TransformOptions { MinSize = [Math.Min(height, width)], MaxSize = Math.Max(height, width) },
        };
        using var model = FasterRcnn.CreateResNetFpn(options, "resnet50", trainableBackboneLayers: 5, frozenBatchNorm: false);
        string? load = null;
        if (weights is not null)
        {
            var report = Man.Vision.Backbones.Weights.WeightLoader.Load(model, weights);
            if (report.Missing.Count > 0 || report.ShapeMismatches.Count > 0)
                throw new InvalidOperationException($"torchvision's weights do not fit our fasterrcnn_resnet50_fpn: {report.Summary}");
            load = $"torchvision's random weights loaded ({report.Summary})";
        }
        model.eval();
        var g = new Generator().manual_seed(0);
        var image = torch.rand([3, height, width], generator: g);
        var times = new List<double>();
        long detections = 0;
        for (int i = 0; i < warmup + images; i++)
        {
            using var step = NewDisposeScope();
            var t0 = Stopwatch.GetTimestamp();
            var result = model.Predict([image]);
            if (i >= warmup) times.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
            detections = result[0].Count;
        }
        var sorted = times.Order().ToArray();
        double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
        return (median, times.ToArray(), detections, load);
    }

    private static string FindScript()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "src", "Man.Vision.Detection", "Inference", TorchvisionScript);
                if (File.Exists(candidate)) return candidate;
            }
        }
        throw new FileNotFoundException($"{TorchvisionScript} was not found above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}; pass --script PATH (it is in src/Man.Vision.Detection/Inference/).");
    }

    private static JObject RunPython(string python, string script, int height, int width, int images, int warmup, int threads, string? saveWeights)
    {
        if (!File.Exists(python)) throw new FileNotFoundException($"{python} does not exist; install Debian's python3-torchvision or pass --python, or use --skip-torchvision.", python);
        var inv = CultureInfo.InvariantCulture;
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { script, "--height", height.ToString(inv), "--width", width.ToString(inv), "--images", images.ToString(inv),
                     "--warmup", warmup.ToString(inv), "--threads", threads.ToString(inv) })
            psi.ArgumentList.Add(a);
        if (saveWeights is not null)
        {
            psi.ArgumentList.Add("--save-weights");
            psi.ArgumentList.Add(saveWeights);
        }
        psi.Environment["OMP_NUM_THREADS"] = threads.ToString(inv);
        using var p = Process.Start(psi)!;
        var stderrTask = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var line = stdout.Split('\n').LastOrDefault(l => l.StartsWith('{'));
        if (p.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"{python} {script} failed (exit {p.ExitCode}): {stderrTask.Result.Trim()}");
        return JObject.Parse(line);
    }
}

/// <summary>One configuration of <c>bench detect-memory</c> (<c>AuxHead</c>: the early blocks' auxiliary head, dense or rcnn).</summary>
public sealed record DetectMemoryConfig(string Backbone, int Height, int Width, int Batch, string Method, int K, string Split, string AuxHead = "dense");

/// <summary>What one fresh process measured.</summary>
/// <remarks>
/// <c>BlockPeaksMiB</c>: peak RSS per local block and of the optimizer step (see <see cref="StepMeasurement"/>);
/// <c>Parameters</c>: every parameter of the learner (backbone, auxiliary networks with their copies, heads).
/// </remarks>
public sealed record DetectMemoryResult(DetectMemoryConfig Config, double FloorMiB, double PeakMiB, double StepMsMedian, string Plan, int Steps, int Threads,
    double[]? BlockPeaksMiB = null, long Parameters = 0);
