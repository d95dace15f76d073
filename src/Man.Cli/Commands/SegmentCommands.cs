using System.CommandLine;
using System.Globalization;
using Man.Local;
using Man.Vision.Classification.Training;
using Man.Vision.Segmentation.Evaluation;
using Man.Vision.Segmentation.Inference;
using Man.Vision.Segmentation.Models;
using Man.Vision.Segmentation.Training;
using Newtonsoft.Json.Linq;
using Spectre.Console;

namespace Man.Cli.Commands;

/// <summary><c>man-vision train segment</c>, <c>man-vision eval segment</c> and <c>man-vision predict segment</c>.</summary>
public static class SegmentCommands
{
    private const string DataHelp = "synth (default, rendered once into the cache; synth:n=400,size=128,seed=0) | camvid:DIR | voc:DIR | cityscapes:DIR";

    /// <summary>The train command.</summary>
    public static Command Train()
    {
        var data = new Option<string>("--data") { Description = DataHelp, DefaultValueFactory = _ => "synth" };
        var head = new Option<string>("--head") { Description = "fcn | deeplabv3", DefaultValueFactory = _ => "deeplabv3" };
        var backbone = new Option<string>("--backbone") { Description = "resnet18 | resnet34 | resnet50 | resnet101 | resnet152 | resnext50_32x4d | resnext101_32x8d", DefaultValueFactory = _ => "resnet18" };
        var outputStride = new Option<int?>("--output-stride") { Description = "8 | 16 | 32 (default: 8 for resnet50 and deeper, 32 for resnet18/34, which cannot be dilated)." };
        var aux = new Option<bool>("--aux") { Description = "torchvision's auxiliary FCN head on layer3 (loss weight 0.5)." };
        var method = new Option<string>("--method") { Description = "e2e | greedy | infopro | man | manpp", DefaultValueFactory = _ => "manpp" };
        var k = new Option<int?>("--k") { Description = "Number of local blocks (default 4; 1 for e2e)." };
        var split = new Option<string>("--split") { Description = "balanced (by activation memory) | stages (K=4: stem+layer1|layer2|layer3|layer4) | uniform | explicit block starts, e.g. 0,4,8,12", DefaultValueFactory = _ => "balanced" };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 1 };
        var crop = new Option<int>("--crop") { Description = "Square training crop (pixels).", DefaultValueFactory = _ => 256 };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 8 };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 0.01 };
        var wd = new Option<double>("--weight-decay") { DefaultValueFactory = _ => 1e-4 };
        var clipGrad = CommonOptions.ClipGradNorm();
        var warmup = new Option<long>("--warmup-iters") { DefaultValueFactory = _ => 0 };
        var minScale = new Option<double>("--min-scale") { DefaultValueFactory = _ => 0.5 };
        var maxScale = new Option<double>("--max-scale") { DefaultValueFactory = _ => 2.0 };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 0 };
        var outDir = new Option<string>("--out") { Description = "Run folder for metrics.json and checkpoints.", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue from RUN_DIR/last.ckpt." };
        var pretrained = new Option<string?>("--pretrained") { Description = "Backbone weights (torchvision resnet .pth, safetensors, or a deeplabv3/fcn checkpoint's backbone.*)." };
        var initCopies = new Option<bool>("--init-copies-from-unit") { Description = "MAN/MAN++: start the LB and EMA copies from the (pretrained) weights of the unit they copy (default: fresh initialisation, as the reference code)." };
        var freezeAt = new Option<int>("--freeze-at") { Description = "Freeze the stem (1) and layer1..layer(N-1) (N ≥ 2); 0 trains everything.", DefaultValueFactory = _ => 0 };
        var maxBatches = new Option<int>("--max-batches") { Description = "Stop each epoch after this many batches (0 = all).", DefaultValueFactory = _ => 0 };
        var trainSize = new Option<int>("--train-size") { Description = "Use only the first N training images (0 = all).", DefaultValueFactory = _ => 0 };
        var valSize = new Option<int>("--val-size") { Description = "Evaluate only the first N images of the val split (0 = all).", DefaultValueFactory = _ => 0 };
        var preciseBn = new Option<int>("--precise-bn") { Description = "Recompute the backbone's and head's batch-norm statistics over N training batches before every evaluation (detectron2's PRECISE_BN; 0 = off).", DefaultValueFactory = _ => 0 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Evaluate every N epochs (and after the last).", DefaultValueFactory = _ => 1 };
        var evalBatch = new Option<int>("--eval-batch-size") { DefaultValueFactory = _ => 1 };
        var (slideCrop, slideStride) = WindowOptions();
        var cache = new Option<string?>("--cache") { Description = "Folder for rendered synthetic data (default $XDG_CACHE_HOME/man-vision)." };
        var common = CommonOptions.Create();
        var cmd = new Command("segment", "Train an FCN/DeepLabV3 segmenter end-to-end or with local learning; mIoU after every epoch.")
        {
            data, head, backbone, outputStride, aux, method, k, split, epochs, crop, batch, lr, wd, warmup, clipGrad, minScale, maxScale, seed, outDir, resume,
            pretrained, freezeAt, initCopies, maxBatches, trainSize, valSize, evalEvery, preciseBn, evalBatch, slideCrop, slideStride, cache,
        };
        common.AddTo(cmd);
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var device = common.Apply(r);
            var m = LocalMethods.Parse(r.GetValue(method)!);
            var options = new SegmentationTrainOptions
            {
                Arch = r.GetValue(backbone)!.Trim(), Head = SegmentationHeadKinds.Parse(r.GetValue(head)!), AuxLoss = r.GetValue(aux),
                OutputStride = r.GetValue(outputStride), Method = m, K = r.GetValue(k) ?? (m == LocalMethod.E2E ? 1 : 4), Split = r.GetValue(split)!,
                Epochs = r.GetValue(epochs), CropSize = r.GetValue(crop), BatchSize = r.GetValue(batch), LearningRate = r.GetValue(lr),
                WeightDecay = r.GetValue(wd), WarmupSteps = r.GetValue(warmup), ClipGradNorm = r.GetValue(clipGrad), MinScale = r.GetValue(minScale), MaxScale = r.GetValue(maxScale),
                Seed = r.GetValue(seed), Pretrained = r.GetValue(pretrained), FreezeAt = r.GetValue(freezeAt), InitializeCopiesFromUnit = r.GetValue(initCopies), MaxBatchesPerEpoch = r.GetValue(maxBatches),
                EvalEvery = r.GetValue(evalEvery), PreciseBnBatches = r.GetValue(preciseBn), EvalBatchSize = r.GetValue(evalBatch), EvalWindow = Window(r, slideCrop, slideStride),
                Workers = common.Workers(r),
            };
            options.Validate();
            var source = SegmentationDataSource.Open(r.GetValue(data)!, cacheRoot: r.GetValue(cache)).Limit(r.GetValue(trainSize), r.GetValue(valSize));
            string run = r.GetValue(outDir)!;
            AnsiConsole.MarkupLine($"[bold]train segment[/] {Markup.Escape(options.Arch)} {options.Head.Name()}{(options.AuxLoss ? "+aux" : "")} " +
                                   $"OS{options.EffectiveOutputStride} {options.Method.Name()} K={options.K} on {Markup.Escape(source.Spec)}: " +
                                   $"{source.Train.Samples.Count} train / {source.Val.Samples.Count} val images, {source.NumClasses} classes, crop {options.CropSize}, device {device}");
            var runner = new SegmentationRunner { Log = line => AnsiConsole.WriteLine(line) };
            var history = runner.Train(options, source, run, r.GetValue(resume), device, new ProgressAdapter(new ProgressLine()));
            PrintHistory(history);
            AnsiConsole.MarkupLine($"metrics: {Markup.Escape(Path.Combine(run, SegmentationRunner.MetricsFile))}, checkpoint: {Markup.Escape(Path.Combine(run, SegmentationRunner.LastCheckpoint))}");
            return 0;
        }));
        return cmd;
    }

    /// <summary>The eval command: a checkpoint on a data set, or a folder of predicted label pngs against a ground-truth folder.</summary>
    public static Command Eval()
    {
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A segmentation checkpoint (evaluated on --data)." };
        var data = new Option<string>("--data") { Description = DataHelp, DefaultValueFactory = _ => "synth" };
        var split = new Option<string>("--split") { Description = "The split of --data to evaluate.", DefaultValueFactory = _ => "val" };
        var valSize = new Option<int>("--val-size") { Description = "Evaluate only the first N images (0 = all).", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 1 };
        var (slideCrop, slideStride) = WindowOptions();
        var pred = new Option<string?>("--pred") { Description = "Folder of predicted label pngs (instead of --checkpoint)." };
        var gt = new Option<string?>("--gt") { Description = "Folder of ground-truth label pngs (with --pred; matched by file name)." };
        var numClasses = new Option<int?>("--num-classes") { Description = "Number of classes (with --pred)." };
        var ignore = new Option<long>("--ignore-index") { DefaultValueFactory = _ => 255 };
        var classNames = new Option<string?>("--class-names") { Description = "Comma-separated class names for the table (with --pred)." };
        var json = new Option<string?>("--json") { Description = "Write the results here as json (mIoU, aAcc, mAcc, IoU and Acc per class)." };
        var cache = new Option<string?>("--cache") { Description = "Folder for rendered synthetic data." };
        var preciseBn = new Option<int>("--precise-bn") { Description = "First recompute the batch-norm statistics of the backbone and the main head over N batches of the training split, drawn as the checkpoint's run drew them (as train segment --precise-bn N); the checkpoint file is not changed.", DefaultValueFactory = _ => 0 };
        var preciseBatch = new Option<int?>("--precise-bn-batch-size") { Description = "Batch size of the --precise-bn pass (default: the checkpoint's training batch size; required for checkpoints that do not store it)." };
        var preciseData = new Option<string?>("--precise-bn-data") { Description = "The data set whose training split the --precise-bn pass runs over (default: --data)." };
        var preciseSplit = new Option<string>("--precise-bn-split") { Description = "The split of the --precise-bn pass.", DefaultValueFactory = _ => "train" };
        var preciseSeed = new Option<long?>("--precise-bn-seed") { Description = "Loader seed of the --precise-bn pass (default: the checkpoint's training seed, else 0)." };
        var common = CommonOptions.Create();
        var cmd = new Command("segment", "mmsegmentation's IoUMetric (per-class IoU/Acc, mIoU, aAcc, mAcc) of a checkpoint on a data set, or of a folder of predictions (--pred DIR --gt DIR --num-classes C).")
        {
            checkpoint, data, split, valSize, batch, slideCrop, slideStride, pred, gt, numClasses, ignore, classNames, json, cache,
            preciseBn, preciseBatch, preciseData, preciseSplit, preciseSeed,
        };
        common.AddTo(cmd);
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            string? ckpt = r.GetValue(checkpoint), predDir = r.GetValue(pred);
            if ((ckpt is null) == (predDir is null)) throw new ArgumentException("Give either --checkpoint (with --data) or --pred with --gt and --num-classes.");
            SegmentationMetrics metrics;
            JObject? preciseDoc = null;
            int preciseBatches = r.GetValue(preciseBn);
            if (preciseBatches < 0) throw new ArgumentException($"--precise-bn must be 0 (off) or a number of batches (got {preciseBatches}).");
            if (predDir is not null)
            {
                if (preciseBatches != 0) throw new ArgumentException("--precise-bn recomputes a checkpoint's batch-norm statistics; a folder of predictions has none (leave it out with --pred).");
                string gtDir = r.GetValue(gt) ?? throw new ArgumentException("--pred needs --gt, the folder of ground-truth label pngs.");
                int c = r.GetValue(numClasses) ?? throw new ArgumentException("--pred needs --num-classes.");
                if (c < 1 || c > 255) throw new ArgumentException($"--num-classes must lie in 1..255 (got {c}).");
                var names = r.GetValue(classNames)?.Split(',', StringSplitOptions.TrimEntries);
                if (names is not null && names.Length != c) throw new ArgumentException($"--class-names lists {names.Length} names for --num-classes {c}.");
                metrics = SegmentationFolderEvaluation.Run(predDir, gtDir, c, r.GetValue(ignore), names);
            }
            else
            {
                var device = common.Apply(r);
                using var segmenter = Segmenter.Load(ckpt!, device);
                var source = SegmentationDataSource.Open(r.GetValue(data)!, trainSplit: r.GetValue(split)!, valSplit: r.GetValue(split)!, cacheRoot: r.GetValue(cache))
                    .Limit(0, r.GetValue(valSize));
                AnsiConsole.MarkupLine($"[bold]eval segment[/] {Markup.Escape(ckpt!)} ({Markup.Escape(segmenter.Options.Arch)} {segmenter.Options.Head.Name()}, " +
                                       $"{segmenter.Learner.Options.Method.Name()} K={segmenter.Learner.Plan.K}) on {Markup.Escape(source.Val.Name)}: {source.Val.Samples.Count} images");
                if (preciseBatches > 0)
                    preciseDoc = RecomputeBatchNorm(segmenter, ckpt!, r.GetValue(preciseData) ?? r.GetValue(data)!, r.GetValue(preciseSplit)!, r.GetValue(split)!,
                        preciseBatches, r.GetValue(preciseBatch), r.GetValue(preciseSeed), r.GetValue(cache), device, common.Workers(r));
                metrics = SegmentationRunner.Evaluate(segmenter, source.Val, device, r.GetValue(batch), Window(r, slideCrop, slideStride), common.Workers(r));
            }
            Console.Write(metrics.FormatTable());
            if (r.GetValue(json) is string path)
            {
                var doc = metrics.ToJObject();
                if (ckpt is not null) doc["checkpoint"] = Path.GetFullPath(ckpt);
                if (preciseDoc is not null) doc["precise_bn"] = preciseDoc;
                string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
                if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
                File.WriteAllText(path, doc.ToString(Newtonsoft.Json.Formatting.Indented));
                AnsiConsole.MarkupLine($"wrote {Markup.Escape(path)}");
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>
    /// eval segment --precise-bn: recomputes the checkpoint's batch-norm statistics over the training split as its run's
    /// loader drew it (SegmentationRunner.RecomputeBatchNorm), prints what it did and returns it for the json.
    /// </summary>
    private static JObject RecomputeBatchNorm(Segmenter segmenter, string checkpoint, string dataSpec, string splitName, string evalSplit, int batches,
        int? batchSize, long? seed, string? cache, TorchSharp.torch.Device device, int workers)
    {
        var loaderOf = SegmentationRunner.TrainingLoaderOf(checkpoint);
        int size = batchSize ?? loaderOf.BatchSize
            ?? throw new ArgumentException($"{checkpoint} does not store its training batch size (written before it was stored): give --precise-bn-batch-size.");
        if (size < 1) throw new ArgumentException($"--precise-bn-batch-size must be positive (got {size}).");
        long seedValue = seed ?? loaderOf.Seed ?? 0;
        var defaults = new SegmentationTrainOptions();
        var source = SegmentationDataSource.Open(dataSpec, trainSplit: splitName, valSplit: splitName, cacheRoot: cache);
        if (!source.Classes.SequenceEqual(segmenter.Classes))
            throw new ArgumentException($"The checkpoint's classes differ from those of {source.Spec} (--precise-bn-data).");
        if (string.Equals(splitName, evalSplit, StringComparison.OrdinalIgnoreCase) && string.Equals(source.Spec, dataSpec.Trim(), StringComparison.Ordinal))
            AnsiConsole.MarkupLine($"[yellow]warning:[/] the --precise-bn pass runs over the evaluated split '{Markup.Escape(evalSplit)}': it sees the evaluation images.");
        var loader = new SegmentationRunner.TrainingLoader(size, seedValue, loaderOf.CropSize, loaderOf.MinScale ?? defaults.MinScale,
            loaderOf.MaxScale ?? defaults.MaxScale, loaderOf.Jitter ?? defaults.Jitter, loaderOf.Epoch);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (layers, used) = SegmentationRunner.RecomputeBatchNorm(segmenter, source, batches, loader, device, workers);
        AnsiConsole.MarkupLine(layers == 0
            ? "precise batch norm: the checkpoint has no batch-norm layer in training mode; nothing recomputed"
            : $"precise batch norm: {layers} layers recomputed over {used} batches of {size} from {Markup.Escape(source.Train.Name)} (seed {seedValue}, pass of epoch {loaderOf.Epoch + 1}), {clock.Elapsed.TotalSeconds:0.0} s");
        return new JObject
        {
            ["data"] = source.Spec, ["split"] = splitName, ["layers"] = layers, ["batches"] = layers == 0 ? 0 : used, ["batch_size"] = size,
            ["seed"] = seedValue, ["epoch"] = loaderOf.Epoch,
        };
    }

    /// <summary>The predict command: label pngs and colour overlays for images.</summary>
    public static Command Predict()
    {
        var checkpoint = new Option<string>("--checkpoint") { Required = true };
        var images = new Option<string[]>("--images") { Description = "Image files and/or folders of images.", Required = true, AllowMultipleArgumentsPerToken = true };
        var outDir = new Option<string>("--out") { Description = "Output folder: labels/STEM.png (palette png of class ids) and overlays/STEM.png.", Required = true };
        var opacity = new Option<double>("--opacity") { Description = "Overlay colour weight in [0, 1].", DefaultValueFactory = _ => 0.5 };
        var (slideCrop, slideStride) = WindowOptions();
        var common = CommonOptions.Create();
        var cmd = new Command("segment", "Predict label maps for images with a segmentation checkpoint; write label pngs and colour overlays.")
        { checkpoint, images, outDir, opacity, slideCrop, slideStride };
        common.AddTo(cmd);
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var device = common.Apply(r);
            var files = SegmentationPredictor.ListImages(r.GetValue(images)!);
            using var segmenter = Segmenter.Load(r.GetValue(checkpoint)!, device);
            var predictor = new SegmentationPredictor(segmenter, device, Window(r, slideCrop, slideStride));
            string output = r.GetValue(outDir)!;
            var counts = new long[segmenter.NumClasses];
            foreach (var file in files)
            {
                var map = predictor.PredictAndWrite(file, output, r.GetValue(opacity));
                foreach (byte v in map.Pixels) counts[v]++;
                AnsiConsole.MarkupLine($"{Markup.Escape(file)} → {Markup.Escape(Path.Combine(output, SegmentationPredictor.LabelsFolder, Path.GetFileNameWithoutExtension(file) + ".png"))}");
            }
            long all = Math.Max(1, counts.Sum());
            var table = new Table().AddColumns("class", "pixels %");
            for (int c = 0; c < counts.Length; c++)
                table.AddRow(Markup.Escape(segmenter.Classes[c]), (100.0 * counts[c] / all).ToString("0.00", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"{files.Count} images: labels in {Markup.Escape(Path.Combine(output, SegmentationPredictor.LabelsFolder))}, overlays in {Markup.Escape(Path.Combine(output, SegmentationPredictor.OverlaysFolder))}");
            return 0;
        }));
        return cmd;
    }

    private static (Option<int?> Crop, Option<int?> Stride) WindowOptions() => (
        new Option<int?>("--slide-crop") { Description = "Sliding-window inference with square windows of this side (default: whole images)." },
        new Option<int?>("--slide-stride") { Description = "Step of the sliding windows (default: 2/3 of --slide-crop)." });

    private static SlidingWindow? Window(ParseResult r, Option<int?> crop, Option<int?> stride)
    {
        if (r.GetValue(crop) is not int c)
        {
            if (r.GetValue(stride) is not null) throw new ArgumentException("--slide-stride needs --slide-crop.");
            return null;
        }
        if (c < 32) throw new ArgumentException($"--slide-crop must be at least 32 (got {c}).");
        int s = r.GetValue(stride) ?? Math.Max(1, c * 2 / 3);
        return SlidingWindow.Square(c, s);
    }

    private static void PrintHistory(IReadOnlyList<SegmentationEpochMetrics> history)
    {
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().AddColumns("epoch", "loss per block", "s", "mIoU", "aAcc", "mAcc", "step ms", "img/s", "peak RSS MiB");
        foreach (var h in history)
            table.AddRow((h.Epoch + 1).ToString(inv), ProgressLine.BlockLosses(h.TrainLossPerBlock),
                h.S.All(v => v is null) ? "-" : string.Join(" ", h.S.Select(v => v?.ToString("0.000", inv) ?? "-")),
                h.MIoU?.ToString("0.00", inv) ?? "-", h.AAcc?.ToString("0.00", inv) ?? "-", h.MAcc?.ToString("0.00", inv) ?? "-",
                h.StepTimeMsMedian.ToString("0", inv), h.ImagesPerSecond.ToString("0.0", inv), h.PeakRssMiB.ToString("0", inv));
        AnsiConsole.Write(table);
    }

    /// <summary>Shows the runner's progress on the shared progress line.</summary>
    private sealed class ProgressAdapter(ProgressLine line) : IProgress<SegmentationTrainProgress>
    {
        public void Report(SegmentationTrainProgress p) =>
            line.Report(new TrainProgress(p.Epoch, p.Epochs, p.Batch, p.Batches, p.ImagesPerSecond, p.Eta, p.BlockLosses, p.S, p.LearningRate));
    }
}
