using System.Globalization;
using Man.Local;
using Man.Local.Training;
using Man.Runtime;
using Man.Vision.Classification.Training;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Cli.Commands;

/// <summary>
/// One configuration of the memory benchmark; <paramref name="Recompute"/> recomputes early blocks,
/// <paramref name="StepEachBlock"/> steps the optimizer after every block, <paramref name="RecomputeSlack"/> is the balanced
/// split's memory slack (<see cref="ClassificationModel.RecomputeSlack"/>).
/// </summary>
public sealed record MemoryConfig(string Arch, int Batch, int Size, string Method, int K, string Split, bool Recompute = false, bool StepEachBlock = false,
    double RecomputeSlack = ClassificationModel.RecomputeSlack)
{
    /// <summary>The method as the tables print it, e.g. "manpp+recompute+step-each-block".</summary>
    public string Label => Method + (Recompute ? "+recompute" : "") + (StepEachBlock ? "+step-each-block" : "");
}

/// <summary>What one fresh process measured.</summary>
/// <param name="Config">The configuration.</param>
/// <param name="FloorMiB">RSS after building the model, before the first step.</param>
/// <param name="PeakMiB">Peak RSS of the process.</param>
/// <param name="StepMsMedian">Median time of the timed steps.</param>
/// <param name="Plan">The split plan.</param>
/// <param name="Steps">Timed steps.</param>
/// <param name="BlockPeaksMiB">
/// Peak RSS while each block ran (forward, auxiliary loss, backward), over the timed steps, then the optimizer step's;
/// measured by resetting VmHWM between blocks (Linux), empty where that is not possible.
/// </param>
public sealed record MemoryResult(MemoryConfig Config, double FloorMiB, double PeakMiB, double StepMsMedian, string Plan, int Steps, double[]? BlockPeaksMiB = null);

/// <summary>
/// <c>man-vision bench memory</c>: peak RSS and median step time of every configuration, each in a fresh process
/// (the parent re-runs this program with the hidden <c>bench memory-one</c> command).
/// </summary>
public static class MemoryBenchmark
{
    /// <summary>The configurations of the issue: CIFAR ResNet-32 (batch 128, K 1..16) and ResNet-50/101 (224², batch 16, K 1..4).</summary>
    /// <param name="split">Split rule.</param>
    /// <param name="methods">Methods besides e2e.</param>
    /// <param name="quick">Only CIFAR ResNet-32 with K 1, 4, 8.</param>
    /// <param name="recompute">Measure every local configuration also with recomputed blocks.</param>
    /// <param name="stepEachBlock">Measure every local configuration also with a step after every block (with recomputation when both are set).</param>
    public static IReadOnlyList<MemoryConfig> DefaultConfigs(string split, IReadOnlyList<string> methods, bool quick, bool recompute = false, bool stepEachBlock = false)
    {
        var list = new List<MemoryConfig>();
        void Add(string arch, int batch, int size, int[] ks)
        {
            list.Add(new MemoryConfig(arch, batch, size, "e2e", 1, split));
            foreach (var m in methods.Where(m => m != "e2e"))
                foreach (var k in ks.Where(k => k > 1))
                {
                    list.Add(new MemoryConfig(arch, batch, size, m, k, split));
                    if (recompute || stepEachBlock) list.Add(new MemoryConfig(arch, batch, size, m, k, split, recompute, stepEachBlock));
                }
        }
        if (quick)
        {
            Add("resnet32", 128, 32, [1, 4, 8]);
            return list;
        }
        Add("resnet32", 128, 32, [1, 2, 4, 8, 16]);
        Add("resnet50", 16, 224, [1, 2, 4]);
        Add("resnet101", 16, 224, [1, 2, 4]);
        return list;
    }

    /// <summary>Runs one configuration in this process and returns the measurement (the child side).</summary>
    public static MemoryResult RunOne(MemoryConfig c, int steps, int threads)
    {
        Devices.SetThreads(threads);
        var classes = Enumerable.Range(0, c.Size <= 64 ? 10 : 1000).Select(i => $"c{i}").ToList();
        using var model = ClassificationModel.Create(c.Arch, LocalMethods.Parse(c.Method), c.K, c.Split, classes, [3, c.Size, c.Size], seed: 0, recompute: c.Recompute, recomputeSlack: c.RecomputeSlack);
        using var trainer = new LocalTrainer<Tensor>(model.Learner, new TrainerOptions
        {
            Schedule = new LearningRateSchedule { Kind = ScheduleKind.Constant, BaseLr = 0.01, TotalSteps = steps + 1 },
            StepEachBlock = c.StepEachBlock,
        });
        var g = new Generator().manual_seed(0);
        using var x = torch.randn([c.Batch, 3, c.Size, c.Size], generator: g);
        using var y = torch.randint(0, classes.Count, [c.Batch], generator: g, dtype: ScalarType.Int64);
        var learner = model.Learner;
        var m = BenchHarness.MeasureSteps(() => trainer.TrainStep(x, y), steps, learner.Plan.K, record => learner.AfterBlockBackward += (b, _) => record(b));
        return new MemoryResult(c, m.FloorMiB, m.PeakMiB, m.StepMsMedian, learner.Plan.ToString(b => learner.Options.Recomputes(b, learner.Plan.K)), steps, m.BlockPeaksMiB);
    }

    /// <summary>Runs every configuration in a fresh child process; prints the table and writes json.</summary>
    public static int RunAll(IReadOnlyList<MemoryConfig> configs, int steps, int threads, string? jsonPath)
    {
        var results = new List<MemoryResult>();
        int i = 0;
        foreach (var c in configs)
        {
            i++;
            Console.WriteLine($"[{i}/{configs.Count}] {c.Arch} batch {c.Batch} {c.Size}² {c.Label} K={c.K} …");
            var result = BenchHarness.RunJsonChild<MemoryResult>(["bench", "memory-one", "--arch", c.Arch, "--batch", c.Batch.ToString(CultureInfo.InvariantCulture),
                "--size", c.Size.ToString(CultureInfo.InvariantCulture), "--method", c.Method, "--k", c.K.ToString(CultureInfo.InvariantCulture),
                "--split", c.Split, "--steps", steps.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture),
                .. (c.Recompute ? new[] { "--recompute", "--recompute-slack", c.RecomputeSlack.ToString("R", CultureInfo.InvariantCulture) } : []), .. (c.StepEachBlock ? new[] { "--step-each-block" } : [])], out string error);
            if (result is null) CliErrors.Error($"configuration {c} failed ({error})");
            else results.Add(result);
        }
        Print(results);
        if (jsonPath is not null)
        {
            var doc = new JObject
            {
                ["benchmark"] = "memory",
                ["threads"] = threads,
                ["steps"] = steps,
                ["results"] = JArray.FromObject(results.Select(r => new
                {
                    r.Config.Arch, r.Config.Batch, r.Config.Size, r.Config.Method, recompute = r.Config.Recompute, step_each_block = r.Config.StepEachBlock, r.Config.K, r.Plan,
                    floor_mib = Math.Round(r.FloorMiB, 1), peak_mib = Math.Round(r.PeakMiB, 1), block_peaks_mib = r.BlockPeaksMiB, step_ms = Math.Round(r.StepMsMedian, 1),
                    peak_vs_e2e = Math.Round(r.PeakMiB / E2E(results, r).PeakMiB, 3), step_vs_e2e = Math.Round(r.StepMsMedian / E2E(results, r).StepMsMedian, 3),
                })),
            };
            File.WriteAllText(jsonPath, doc.ToString(Formatting.Indented));
            Console.WriteLine($"wrote {jsonPath}");
        }
        return results.Count == configs.Count ? 0 : 1;
    }

    private static MemoryResult E2E(List<MemoryResult> all, MemoryResult r) =>
        all.FirstOrDefault(o => o.Config.Arch == r.Config.Arch && o.Config.Batch == r.Config.Batch && o.Config.Size == r.Config.Size && o.Config.K == 1) ?? r;

    private static void Print(List<MemoryResult> results)
    {
        var table = new Table().AddColumns("model", "batch", "method", "K", "blocks (units)", "floor MiB", "peak MiB", "peak/e2e", "step ms", "step/e2e");
        foreach (var r in results)
        {
            var e = E2E(results, r);
            table.AddRow(r.Config.Arch, $"{r.Config.Batch}×{r.Config.Size}²", r.Config.Label, r.Config.K.ToString(CultureInfo.InvariantCulture), Markup.Escape(r.Plan),
                r.FloorMiB.ToString("0", CultureInfo.InvariantCulture), r.PeakMiB.ToString("0", CultureInfo.InvariantCulture),
                (r.PeakMiB / e.PeakMiB).ToString("0.00", CultureInfo.InvariantCulture), r.StepMsMedian.ToString("0", CultureInfo.InvariantCulture),
                (r.StepMsMedian / e.StepMsMedian).ToString("0.00", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
    }
}
