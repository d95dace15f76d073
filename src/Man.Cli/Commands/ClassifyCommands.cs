using System.CommandLine;
using System.Globalization;
using Man.Local;
using Man.Runtime;
using Man.Vision.Classification.Data;
using Man.Vision.Classification.Training;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Spectre.Console;

namespace Man.Cli.Commands;

/// <summary><c>man-vision train classify</c> and <c>man-vision eval classify</c>.</summary>
public static class ClassifyCommands
{
    /// <summary>The train command.</summary>
    public static Command Train()
    {
        var data = new Option<string>("--data") { Description = "synth (default, no download) | cifar10:PATH.tar.gz | imagefolder:DIR | fashion-mnist:DIR, or a path (auto-detected).", DefaultValueFactory = _ => "synth" };
        var arch = new Option<string>("--arch") { Description = "resnet32 | resnet110 | resnet18 | resnet34 | resnet50 | resnet101 | resnet152 | resnext50_32x4d | resnext101_32x8d", DefaultValueFactory = _ => "resnet32" };
        var method = new Option<string>("--method") { Description = "e2e | greedy | infopro | man | manpp", DefaultValueFactory = _ => "manpp" };
        var k = new Option<int?>("--k") { Description = "Number of local blocks (default 8; 1 for e2e)." };
        var split = new Option<string>("--split") { Description = "balanced (by activation memory) | uniform (by unit count) | explicit block starts, e.g. 0,4,9", DefaultValueFactory = _ => "balanced" };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 1 };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 128 };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 0.1 };
        var wd = new Option<double>("--weight-decay") { DefaultValueFactory = _ => 5e-4 };
        var warmup = new Option<double>("--warmup-epochs") { DefaultValueFactory = _ => 0 };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 0 };
        var outDir = new Option<string>("--out") { Description = "Run folder for metrics.json and checkpoints.", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue from RUN_DIR/last.ckpt." };
        var maxBatches = new Option<int>("--max-batches") { Description = "Stop each epoch after this many batches (0 = all).", DefaultValueFactory = _ => 0 };
        var trainSize = new Option<int>("--train-size") { Description = "Use N evenly spaced training images (0 = all).", DefaultValueFactory = _ => 0 };
        var testSize = new Option<int>("--test-size") { Description = "Evaluate on N evenly spaced test images (0 = all).", DefaultValueFactory = _ => 0 };
        var pretrained = new Option<string?>("--pretrained") { Description = "Backbone weights: torchvision .pth/.safetensors or a Man.Vision checkpoint." };
        var strict = new Option<bool>("--strict") { Description = "Fail on any missing, unexpected or mismatched key of --pretrained." };
        var freezeAt = new Option<int>("--freeze-at") { Description = "Freeze the stem (1) and the first N-1 stages.", DefaultValueFactory = _ => 0 };
        var backboneLr = new Option<double>("--backbone-lr-scale") { Description = "Backbone learning rate relative to the heads.", DefaultValueFactory = _ => 1.0 };
        var recompute = new Option<bool>("--recompute") { Description = "Recompute early blocks after their auxiliary pass (lower peak memory for one more forward pass of those blocks); with --split balanced only the blocks that need it." };
        var recomputeSlack = new Option<double>("--recompute-slack") { Description = "With --recompute and --split balanced: memory above the lowest reachable peak (a fraction) a block may use and keep its graph; less recomputes more.", DefaultValueFactory = _ => ClassificationModel.RecomputeSlack };
        var clipGrad = CommonOptions.ClipGradNorm();
        var stepEach = new Option<bool>("--step-each-block") { Description = "Step the optimizer after every block and free its gradients at once (the same updates, less memory)." };
        var initCopies = new Option<bool>("--init-copies-from-unit") { Description = "MAN/MAN++: start the LB and EMA copies from the weights of the unit they copy (default: fresh initialisation, as the reference code)." };
        var common = CommonOptions.Create();
        var cmd = new Command("classify", "Train an image classifier end-to-end or with local learning.")
        {
            data, arch, method, k, split, epochs, batch, lr, wd, warmup, seed, outDir, resume, maxBatches, trainSize, testSize, pretrained, strict, freezeAt, backboneLr, recompute, recomputeSlack, stepEach, clipGrad, initCopies,
        };
        common.AddTo(cmd);
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var device = common.Apply(r);
            var m = LocalMethods.Parse(r.GetValue(method)!);
            int kk = r.GetValue(k) ?? (m == LocalMethod.E2E ? 1 : 8);
            var options = new ClassificationTrainOptions
            {
                Arch = r.GetValue(arch)!, Method = m, K = kk, Split = r.GetValue(split)!, Epochs = r.GetValue(epochs),
                LearningRate = r.GetValue(lr), WeightDecay = r.GetValue(wd), WarmupEpochs = r.GetValue(warmup), Seed = r.GetValue(seed),
                MaxBatchesPerEpoch = r.GetValue(maxBatches),
                Pretrained = r.GetValue(pretrained), StrictPretrained = r.GetValue(strict), FreezeAt = r.GetValue(freezeAt),
                BackboneLrScale = r.GetValue(backboneLr), RecomputeBlocks = r.GetValue(recompute), RecomputeSlack = r.GetValue(recomputeSlack), StepEachBlock = r.GetValue(stepEach), ClipGradNorm = r.GetValue(clipGrad),
                InitializeCopiesFromUnit = r.GetValue(initCopies),
            };
            options.Validate();
            var (train, test) = ClassificationData.Open(r.GetValue(data)!, r.GetValue(batch), options.Seed, r.GetValue(trainSize), common.Workers(r), r.GetValue(testSize));
            string run = r.GetValue(outDir)!;
            AnsiConsole.MarkupLine($"[bold]train classify[/] {Markup.Escape(options.Arch)} {options.Method.Name()} K={options.K} on {Markup.Escape(r.GetValue(data)!)}: " +
                                   $"{train.Samples} train / {test?.Samples ?? 0} test images, {train.Classes.Count} classes, device {device}");
            var history = new ClassificationRunner { Log = line => AnsiConsole.MarkupLine(Markup.Escape(line)) }.Train(options, train, test, run, r.GetValue(resume), device, new ProgressLine());
            PrintHistory(history);
            AnsiConsole.MarkupLine($"metrics: {Markup.Escape(Path.Combine(run, ClassificationRunner.MetricsFile))}, checkpoint: {Markup.Escape(Path.Combine(run, ClassificationRunner.LastCheckpoint))}");
            return 0;
        }));
        return cmd;
    }

    /// <summary>The eval command.</summary>
    public static Command Eval()
    {
        var checkpoint = new Option<string>("--checkpoint") { Required = true };
        var data = new Option<string>("--data") { Description = "The data set (its test split is evaluated).", DefaultValueFactory = _ => "synth" };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 256 };
        var json = new Option<string?>("--json") { Description = "Write the results here as json." };
        var common = CommonOptions.Create();
        var cmd = new Command("classify", "Evaluate a classification checkpoint: top-1 accuracy, loss, per-class accuracy.") { checkpoint, data, batch, json };
        common.AddTo(cmd);
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var device = common.Apply(r);
            using var model = ClassificationModel.Load(r.GetValue(checkpoint)!, device);
            var (_, test) = ClassificationData.Open(r.GetValue(data)!, r.GetValue(batch), 0, 0, common.Workers(r));
            if (test is null) throw new ArgumentException($"{r.GetValue(data)} has no test split.");
            if (!test.Classes.SequenceEqual(model.Classes))
                throw new ArgumentException($"The checkpoint's classes ({string.Join(", ", model.Classes.Take(5))}…) differ from the data's ({string.Join(", ", test.Classes.Take(5))}…).");
            var result = ClassificationRunner.Evaluate(model, test, device);
            var table = new Table().AddColumns("class", "accuracy %");
            for (int c = 0; c < result.Classes.Count; c++)
                table.AddRow(Markup.Escape(result.Classes[c]), result.PerClassAccuracy[c].ToString("0.00", CultureInfo.InvariantCulture));
            table.AddRow("[bold]all[/]", $"[bold]{result.Accuracy.ToString("0.00", CultureInfo.InvariantCulture)}[/]");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"top-1 accuracy {result.Accuracy:0.00} %, test error {100 - result.Accuracy:0.00} %, loss {result.Loss:0.0000} on {result.Samples} images");
            if (r.GetValue(json) is string path)
            {
                var doc = new JObject
                {
                    ["accuracy"] = result.Accuracy, ["error"] = 100 - result.Accuracy, ["loss"] = result.Loss, ["samples"] = result.Samples,
                    ["per_class_accuracy"] = new JObject(result.Classes.Select((c, i) => new JProperty(c, double.IsNaN(result.PerClassAccuracy[i]) ? null : result.PerClassAccuracy[i]))),
                };
                File.WriteAllText(path, doc.ToString(Formatting.Indented));
            }
            return 0;
        }));
        return cmd;
    }

    private static void PrintHistory(IReadOnlyList<EpochMetrics> history)
    {
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().AddColumns("epoch", "loss per block", "s", "test acc %", "step ms", "img/s", "peak RSS MiB");
        foreach (var h in history)
            table.AddRow((h.Epoch + 1).ToString(inv), ProgressLine.BlockLosses(h.TrainLossPerBlock),
                h.S.Length == 0 || h.S.All(double.IsNaN) ? "-" : string.Join(" ", h.S.Select(v => v.ToString("0.000", inv))),
                h.TestAccuracy?.ToString("0.00", inv) ?? "-", h.StepTimeMsMedian.ToString("0", inv), h.ImagesPerSecond.ToString("0", inv),
                h.PeakRssMiB.ToString("0", inv));
        AnsiConsole.Write(table);
    }
}
