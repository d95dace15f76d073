using System.CommandLine;
using Man.Runtime;
using Man.Local;
using Newtonsoft.Json;

namespace Man.Cli.Commands;

/// <summary><c>man-vision bench …</c>: benchmarks that print tables and write json.</summary>
public static class BenchCommands
{
    /// <summary>The bench command group.</summary>
    public static Command Create()
    {
        var bench = new Command("bench", "Benchmarks (tables on stdout, json with --json).");
        bench.Subcommands.Add(Memory());
        bench.Subcommands.Add(MemoryOne());
        bench.Subcommands.Add(DataBenchmark.Create());
        bench.Subcommands.Add(SegmentBenchmarks.Memory());
        bench.Subcommands.Add(SegmentBenchmarks.MemoryOne());
        bench.Subcommands.Add(SegmentBenchmarks.CamVid());
        bench.Subcommands.Add(DetectBenchCommands.Nms());
        bench.Subcommands.Add(DetectBenchCommands.Memory());
        bench.Subcommands.Add(DetectBenchCommands.MemoryOne());
        bench.Subcommands.Add(DetectBenchCommands.Inference());
        bench.Subcommands.Add(DetectAccuracyBenchmark.Create());
        bench.Subcommands.Add(TransferBenchmark.Create());
        return bench;
    }

    private static Command Memory()
    {
        var methods = new Option<string>("--methods") { Description = "Comma-separated methods to measure.", DefaultValueFactory = _ => string.Join(",", LocalMethods.Names) };
        var split = new Option<string>("--split") { DefaultValueFactory = _ => "balanced" };
        var steps = new Option<int>("--steps") { Description = "Timed steps per configuration (after one warm-up step).", DefaultValueFactory = _ => 3 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<string?>("--json") { DefaultValueFactory = _ => "bench-memory.json" };
        var quick = new Option<bool>("--quick") { Description = "Only CIFAR ResNet-32 with K 1, 4, 8." };
        var arch = new Option<string?>("--arch") { Description = "Only this architecture." };
        var recompute = new Option<bool>("--recompute") { Description = "Measure every local configuration also with recomputed early blocks." };
        var stepEach = new Option<bool>("--step-each-block") { Description = "Measure every local configuration also with an optimizer step after every block (with --recompute: both)." };
        var cmd = new Command("memory", "Peak memory and median step time of e2e vs local learning, each configuration in a fresh process.")
        { methods, split, steps, threads, json, quick, arch, recompute, stepEach };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var ms = r.GetValue(methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(m => LocalMethods.Parse(m).Name()).ToList();
            var configs = MemoryBenchmark.DefaultConfigs(r.GetValue(split)!, ms, r.GetValue(quick), r.GetValue(recompute), r.GetValue(stepEach));
            if (r.GetValue(arch) is string a) configs = configs.Where(c => c.Arch == a).ToList();
            return MemoryBenchmark.RunAll(configs, r.GetValue(steps), r.GetValue(threads), r.GetValue(json));
        }));
        return cmd;
    }

    private static Command MemoryOne()
    {
        var arch = new Option<string>("--arch") { Required = true };
        var batch = new Option<int>("--batch") { Required = true };
        var size = new Option<int>("--size") { Required = true };
        var method = new Option<string>("--method") { Required = true };
        var k = new Option<int>("--k") { Required = true };
        var split = new Option<string>("--split") { DefaultValueFactory = _ => "balanced" };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 3 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var recompute = new Option<bool>("--recompute");
        var stepEach = new Option<bool>("--step-each-block");
        var slack = new Option<double>("--recompute-slack") { DefaultValueFactory = _ => Man.Vision.Classification.Training.ClassificationModel.RecomputeSlack };
        var cmd = new Command("memory-one", "One configuration of `bench memory` in this process (prints one json line).")
        { arch, batch, size, method, k, split, steps, threads, recompute, stepEach, slack };
        cmd.Hidden = true;
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var c = new MemoryConfig(r.GetValue(arch)!, r.GetValue(batch), r.GetValue(size), r.GetValue(method)!, r.GetValue(k), r.GetValue(split)!, r.GetValue(recompute), r.GetValue(stepEach), r.GetValue(slack));
            var result = MemoryBenchmark.RunOne(c, r.GetValue(steps), r.GetValue(threads));
            Console.WriteLine(JsonConvert.SerializeObject(result));
            return 0;
        }));
        return cmd;
    }
}
