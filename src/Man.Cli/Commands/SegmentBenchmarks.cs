using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Man.Local;
using Man.Local.Training;
using Man.Runtime;
using Man.Vision.Segmentation.Models;
using Man.Vision.Segmentation.Training;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Cli.Commands;

/// <summary>One configuration of <c>bench segment-memory</c>.</summary>
public sealed record SegmentMemoryConfig(string Arch, string Head, int OutputStride, int Batch, int Size, string Method, int K, string Split);

/// <summary>What one fresh process of <c>bench segment-memory</c> measured.</summary>
/// <remarks><c>BlockPeaksMiB</c>: peak RSS per local block and of the optimizer step (see <see cref="StepMeasurement"/>).</remarks>
public sealed record SegmentMemoryResult(SegmentMemoryConfig Config, double FloorMiB, double PeakMiB, double StepMsMedian, string Plan, string[] Blocks, int Steps,
    double[]? BlockPeaksMiB = null);

/// <summary>
/// Segmentation benchmarks: <c>bench segment-memory</c> (peak RSS and step time of DeepLabV3 training, e2e vs MAN++ K = 4, each
/// configuration in a fresh process) and <c>bench segment-camvid</c> (one CPU-budget schedule on CamVid, e2e vs MAN++ → mIoU).
/// </summary>
public static class SegmentBenchmarks
{
    /// <summary><c>bench segment-memory</c>.</summary>
    public static Command Memory()
    {
        var arch = new Option<string>("--backbone") { DefaultValueFactory = _ => "resnet50" };
        var head = new Option<string>("--head") { DefaultValueFactory = _ => "deeplabv3" };
        var outputStride = new Option<int>("--output-stride") { DefaultValueFactory = _ => 8 };
        var size = new Option<int>("--size") { Description = "Square input side.", DefaultValueFactory = _ => 512 };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 4 };
        var method = new Option<string>("--method") { Description = "The local method compared with e2e.", DefaultValueFactory = _ => "manpp" };
        var k = new Option<int>("--k") { DefaultValueFactory = _ => 4 };
        var splits = new Option<string>("--splits") { Description = "Splits of the local method, separated by ';' (stages, balanced, uniform or block starts such as 0,6,12,15).", DefaultValueFactory = _ => "stages;balanced" };
        var steps = new Option<int>("--steps") { Description = "Timed steps per configuration (after one warm-up step).", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<string?>("--json") { DefaultValueFactory = _ => "bench-segment-memory.json" };
        var cmd = new Command("segment-memory", "Peak memory and median step time of segmentation training (DeepLabV3-ResNet-50, 512², batch 4): e2e vs MAN++ K=4, each in a fresh process.")
        { arch, head, outputStride, size, batch, method, k, splits, steps, threads, json };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            string m = LocalMethods.Parse(r.GetValue(method)!).Name();
            SegmentationHeadKinds.Parse(r.GetValue(head)!);
            var configs = new List<SegmentMemoryConfig>
            {
                new(r.GetValue(arch)!, r.GetValue(head)!, r.GetValue(outputStride), r.GetValue(batch), r.GetValue(size), "e2e", 1, "balanced"),
            };
            foreach (var s in r.GetValue(splits)!.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                configs.Add(new(r.GetValue(arch)!, r.GetValue(head)!, r.GetValue(outputStride), r.GetValue(batch), r.GetValue(size), m, r.GetValue(k), s));
            return RunAll(configs, r.GetValue(steps), r.GetValue(threads), r.GetValue(json));
        }));
        return cmd;
    }

    /// <summary>The hidden child of <c>bench segment-memory</c>: one configuration in this process, one json line out.</summary>
    public static Command MemoryOne()
    {
        var arch = new Option<string>("--backbone") { Required = true };
        var head = new Option<string>("--head") { Required = true };
        var outputStride = new Option<int>("--output-stride") { Required = true };
        var size = new Option<int>("--size") { Required = true };
        var batch = new Option<int>("--batch") { Required = true };
        var method = new Option<string>("--method") { Required = true };
        var k = new Option<int>("--k") { Required = true };
        var split = new Option<string>("--split") { DefaultValueFactory = _ => "balanced" };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("segment-memory-one", "One configuration of `bench segment-memory` in this process (prints one json line).")
        { arch, head, outputStride, size, batch, method, k, split, steps, threads };
        cmd.Hidden = true;
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var c = new SegmentMemoryConfig(r.GetValue(arch)!, r.GetValue(head)!, r.GetValue(outputStride), r.GetValue(batch), r.GetValue(size),
                r.GetValue(method)!, r.GetValue(k), r.GetValue(split)!);
            Console.WriteLine(JsonConvert.SerializeObject(RunOne(c, r.GetValue(steps), r.GetValue(threads))));
            return 0;
        }));
        return cmd;
    }

    /// <summary>Measures one configuration in this process: one warm-up step, then <paramref name="steps"/> timed steps on random data.</summary>
    public static SegmentMemoryResult RunOne(SegmentMemoryConfig c, int steps, int threads)
    {
        if (steps < 1) throw new ArgumentException($"--steps must be at least 1 (got {steps}).");
        Devices.SetThreads(threads);
        var classes = Enumerable.Range(0, 21).Select(i => $"c{i}").ToList();
        var options = new SegmentationTrainOptions
        {
            Arch = c.Arch, Head = SegmentationHeadKinds.Parse(c.Head), OutputStride = c.OutputStride, Method = LocalMethods.Parse(c.Method),
            K = c.K, Split = c.Split, CropSize = c.Size, BatchSize = c.Batch,
        };
        options.Validate();
        using var segmenter = Segmenter.Create(options, classes);
        using var trainer = new LocalTrainer<Tensor>(segmenter.Learner, new TrainerOptions
        {
            Momentum = 0.9, Nesterov = false, WeightDecay = 1e-4,
            Schedule = new LearningRateSchedule { Kind = ScheduleKind.Poly, BaseLr = 0.01, TotalSteps = steps + 1 },
        });
        var g = new Generator().manual_seed(0);
        using var x = torch.randn([c.Batch, 3, c.Size, c.Size], generator: g);
        using var y = torch.randint(0, classes.Count, [c.Batch, c.Size, c.Size], generator: g, dtype: ScalarType.Int64);
        var learner = segmenter.Learner;
        var m = BenchHarness.MeasureSteps(() => trainer.TrainStep(x, y), steps, learner.Plan.K, record => learner.AfterBlockBackward += (b, _) => record(b));
        return new SegmentMemoryResult(c, m.FloorMiB, m.PeakMiB, m.StepMsMedian, learner.Plan.ToString(), segmenter.BlockNames().ToArray(), steps, m.BlockPeaksMiB);
    }

    /// <summary>Runs every configuration in a fresh child process; prints the table and writes json.</summary>
    public static int RunAll(IReadOnlyList<SegmentMemoryConfig> configs, int steps, int threads, string? jsonPath)
    {
        var inv = CultureInfo.InvariantCulture;
        var results = new List<SegmentMemoryResult>();
        int i = 0;
        foreach (var c in configs)
        {
            i++;
            Console.WriteLine($"[{i}/{configs.Count}] {c.Arch} {c.Head} OS{c.OutputStride} batch {c.Batch} {c.Size}² {c.Method} K={c.K} {c.Split} …");
            var result = BenchHarness.RunJsonChild<SegmentMemoryResult>(
            [
                "bench", "segment-memory-one", "--backbone", c.Arch, "--head", c.Head, "--output-stride", c.OutputStride.ToString(inv),
                "--size", c.Size.ToString(inv), "--batch", c.Batch.ToString(inv), "--method", c.Method, "--k", c.K.ToString(inv), "--split", c.Split,
                "--steps", steps.ToString(inv), "--threads", threads.ToString(inv),
            ], out string error);
            if (result is null)
            {
                CliErrors.Error($"configuration {c} failed ({error})");
                continue;
            }
            results.Add(result);
            Console.WriteLine($"      peak {result.PeakMiB:0} MiB, step {result.StepMsMedian:0} ms");
        }
        SegmentMemoryResult E2E(SegmentMemoryResult r) => results.FirstOrDefault(o => o.Config.K == 1 && o.Config with { Method = "", K = 0, Split = "" } == r.Config with { Method = "", K = 0, Split = "" }) ?? r;
        var table = new Table().AddColumns("model", "input", "method", "K", "split", "blocks (units)", "floor MiB", "peak MiB", "peak/e2e", "step ms", "step/e2e");
        foreach (var r in results)
        {
            var e = E2E(r);
            table.AddRow($"{r.Config.Head}-{r.Config.Arch} OS{r.Config.OutputStride}", $"{r.Config.Batch}×{r.Config.Size}²", r.Config.Method, r.Config.K.ToString(inv),
                r.Config.K == 1 ? "-" : r.Config.Split, Markup.Escape(r.Plan), r.FloorMiB.ToString("0", inv), r.PeakMiB.ToString("0", inv),
                (r.PeakMiB / e.PeakMiB).ToString("0.00", inv), r.StepMsMedian.ToString("0", inv), (r.StepMsMedian / e.StepMsMedian).ToString("0.00", inv));
        }
        AnsiConsole.Write(table);
        if (jsonPath is not null)
        {
            var doc = new JObject
            {
                ["benchmark"] = "segment-memory",
                ["threads"] = threads,
                ["steps"] = steps,
                ["results"] = JArray.FromObject(results.Select(r => new
                {
                    arch = r.Config.Arch, head = r.Config.Head, output_stride = r.Config.OutputStride, batch = r.Config.Batch, size = r.Config.Size,
                    method = r.Config.Method, k = r.Config.K, split = r.Config.Split, plan = r.Plan, blocks = r.Blocks,
                    floor_mib = Math.Round(r.FloorMiB, 1), peak_mib = Math.Round(r.PeakMiB, 1), block_peaks_mib = r.BlockPeaksMiB, step_ms = Math.Round(r.StepMsMedian, 1),
                    peak_vs_e2e = Math.Round(r.PeakMiB / E2E(r).PeakMiB, 3), step_vs_e2e = Math.Round(r.StepMsMedian / E2E(r).StepMsMedian, 3),
                })),
            };
            File.WriteAllText(jsonPath, doc.ToString(Formatting.Indented));
            Console.WriteLine($"wrote {jsonPath}");
        }
        return results.Count == configs.Count ? 0 : 1;
    }

    /// <summary><c>bench segment-camvid</c>: the same short schedule on CamVid for e2e and a local method, each a fresh <c>train segment</c> process.</summary>
    public static Command CamVid()
    {
        var data = new Option<string>("--data") { Description = "camvid:DIR (any --data of train segment works).", DefaultValueFactory = _ => "camvid:" + DefaultCamVid() };
        var arch = new Option<string>("--backbone") { DefaultValueFactory = _ => "resnet18" };
        var head = new Option<string>("--head") { DefaultValueFactory = _ => "deeplabv3" };
        var methods = new Option<string>("--methods") { DefaultValueFactory = _ => "e2e,manpp" };
        var k = new Option<int>("--k") { DefaultValueFactory = _ => 4 };
        var split = new Option<string>("--split") { DefaultValueFactory = _ => "stages" };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 4 };
        var crop = new Option<int>("--crop") { DefaultValueFactory = _ => 256 };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 8 };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 0.02 };
        var maxBatches = new Option<int>("--max-batches") { DefaultValueFactory = _ => 0 };
        var valSize = new Option<int>("--val-size") { DefaultValueFactory = _ => 0 };
        var outDir = new Option<string>("--out") { DefaultValueFactory = _ => Path.Combine("runs", "segment-camvid") };
        var cmd = new Command("segment-camvid", "One CPU-budget schedule on CamVid (train → val, 11 classes, void ignored): e2e vs MAN++ K=4, mIoU table.")
        { data, arch, head, methods, k, split, epochs, crop, batch, lr, maxBatches, valSize, outDir };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var inv = CultureInfo.InvariantCulture;
            var ms = r.GetValue(methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(LocalMethods.Parse).ToList();
            string root = r.GetValue(outDir)!;
            var rows = new List<JObject>();
            foreach (var m in ms)
            {
                int kk = m == LocalMethod.E2E ? 1 : r.GetValue(k);
                string run = Path.Combine(root, $"{m.Name()}-k{kk}");
                if (Directory.Exists(run)) Directory.Delete(run, recursive: true);
                AnsiConsole.MarkupLine($"[bold]{m.Name()}[/] K={kk} → {Markup.Escape(run)}");
                var clock = Stopwatch.StartNew();
                var args = new List<string>
                {
                    "train", "segment", "--data", r.GetValue(data)!, "--backbone", r.GetValue(arch)!, "--head", r.GetValue(head)!, "--method", m.Name(),
                    "--k", kk.ToString(inv), "--split", r.GetValue(split)!, "--epochs", r.GetValue(epochs).ToString(inv), "--crop", r.GetValue(crop).ToString(inv),
                    "--batch-size", r.GetValue(batch).ToString(inv), "--lr", r.GetValue(lr).ToString(inv), "--max-batches", r.GetValue(maxBatches).ToString(inv),
                    "--val-size", r.GetValue(valSize).ToString(inv), "--eval-every", r.GetValue(epochs).ToString(inv), "--out", run, "--seed", "0",
                };
                int code = BenchHarness.RunChild(args);
                if (code != 0) throw new InvalidOperationException($"the {m.Name()} run failed with exit code {code}.");
                var metrics = JObject.Parse(File.ReadAllText(Path.Combine(run, SegmentationRunner.MetricsFile)));
                metrics["wall_minutes"] = clock.Elapsed.TotalMinutes;
                rows.Add(metrics);
            }
            var table = new Table().AddColumns("method", "K", "blocks", "mIoU", "aAcc", "mAcc", "peak RSS MiB", "median step ms", "minutes");
            var summary = new JArray();
            foreach (var row in rows)
            {
                var last = (JObject)row["epochs"]!.Last!;
                double miou = last.Value<double?>("mIoU") ?? double.NaN, aacc = last.Value<double?>("aAcc") ?? double.NaN, macc = last.Value<double?>("mAcc") ?? double.NaN;
                double peak = row["epochs"]!.Max(e => e.Value<double>("peak_rss_mib"));
                double step = row["epochs"]!.Select(e => e.Value<double>("step_time_ms_median")).Average();
                double minutes = row.Value<double>("wall_minutes");
                table.AddRow(row.Value<string>("method")!, row.Value<int>("k").ToString(inv), Markup.Escape(string.Join(" | ", row["blocks"]!.Values<string>())),
                    miou.ToString("0.00", inv), aacc.ToString("0.00", inv), macc.ToString("0.00", inv), peak.ToString("0", inv), step.ToString("0", inv), minutes.ToString("0.0", inv));
                summary.Add(new JObject
                {
                    ["method"] = row["method"], ["k"] = row["k"], ["plan"] = row["plan"], ["mIoU"] = miou, ["aAcc"] = aacc, ["mAcc"] = macc,
                    ["IoU"] = last["IoU"], ["peak_rss_mib"] = peak, ["step_ms"] = step, ["minutes"] = minutes,
                    ["schedule"] = $"{row["arch"]} {row["head"]} OS{row["output_stride"]}, crop {row["crop"]}, batch {row["batch_size"]}, lr {row["lr"]}, {row["epochs_planned"]} epochs",
                });
            }
            AnsiConsole.Write(table);
            string json = Path.Combine(root, "segment-camvid.json");
            File.WriteAllText(json, summary.ToString(Formatting.Indented));
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(json)}");
            return 0;
        }));
        return cmd;
    }

    private static string DefaultCamVid()
    {
        string? env = Environment.GetEnvironmentVariable("MAN_DATA");
        return Path.Combine(string.IsNullOrEmpty(env) ? Path.Combine("..", "shared", "data") : env, "camvid");
    }
}
