using System.CommandLine;
using System.Globalization;
using Man.Local;
using Man.Vision.Classification.Training;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Detection.Evaluation;
using Man.Vision.Detection.Inference;
using Man.Vision.Detection.Training;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Spectre.Console;

namespace Man.Cli.Commands;

/// <summary><c>man-vision train detect</c>, <c>eval detect</c> and <c>predict detect</c>.</summary>
public static class DetectCommands
{
    private const string DataHelp = "synth (default: rendered shapes, no download) | synth:N | coco:DIR | coco:FILE.json | voc:DIR";

    /// <summary>The train command.</summary>
    public static Command Train()
    {
        var data = new Option<string>("--data") { Description = DataHelp, DefaultValueFactory = _ => "synth" };
        var backbone = new Option<string>("--backbone") { Description = "resnet18 | resnet34 | resnet50 | resnet101 (also resnet152, resnext50_32x4d, resnext101_32x8d)", DefaultValueFactory = _ => "resnet50" };
        var fpn = new Option<bool>("--fpn") { Description = "Feature pyramid over c2..c5 (the detector is always a ResNet-FPN Faster R-CNN).", DefaultValueFactory = _ => true };
        var method = new Option<string>("--method") { Description = "e2e | greedy | man | manpp", DefaultValueFactory = _ => "manpp" };
        var k = new Option<int?>("--k") { Description = "Number of local blocks (default 4; 1 for e2e)." };
        var split = new Option<string>("--split") { Description = "stages (K=4: stem+layer1 | layer2 | layer3 | layer4) | balanced | uniform | block starts, e.g. 0,3,5,7", DefaultValueFactory = _ => "stages" };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 12 };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 2 };
        var lr = new Option<double?>("--lr") { Description = "Base learning rate (default 0.02 × batch / 16)." };
        var momentum = new Option<double>("--momentum") { DefaultValueFactory = _ => 0.9 };
        var wd = new Option<double>("--weight-decay") { DefaultValueFactory = _ => 1e-4 };
        var warmup = new Option<int?>("--warmup-iters") { Description = "Linear warm-up iterations (default min(1000, one epoch))." };
        var schedule = new Option<string>("--schedule") { Description = "step (÷10 at the milestones) | cosine", DefaultValueFactory = _ => "step" };
        var milestones = new Option<string?>("--milestones") { Description = "Epochs at which the step schedule divides the rate by 10, e.g. 8,11 (default: torchvision's 16,22 of 26 scaled)." };
        var minSize = new Option<int>("--min-size") { Description = "Shorter image side (torchvision 800; CPU demos 256-320).", DefaultValueFactory = _ => 800 };
        var maxSize = new Option<int>("--max-size") { Description = "Cap of the longer side (torchvision 1333).", DefaultValueFactory = _ => 1333 };
        var norm = new Option<string?>("--backbone-norm") { Description = "frozen (FrozenBatchNorm2d, torchvision's choice with --pretrained) | bn (trainable batch norm, the default from scratch)." };
        var trainable = new Option<int?>("--trainable-layers") { Description = "Trainable backbone stages from layer4, 0..5 (default 3 with --pretrained, 5 from scratch)." };
        var pretrained = new Option<string?>("--pretrained") { Description = "Backbone weights (torchvision ResNet .pth or safetensors); frozen batch norm as torchvision." };
        var roiSamples = new Option<int>("--roi-samples") { Description = "RoIs sampled per image for the box head (torchvision 512).", DefaultValueFactory = _ => 512 };
        var postTrain = new Option<int>("--rpn-post-nms-train") { Description = "Proposals per image in training (torchvision 2000).", DefaultValueFactory = _ => 2000 };
        var postTest = new Option<int>("--rpn-post-nms-test") { Description = "Proposals per image in inference (torchvision 1000).", DefaultValueFactory = _ => 1000 };
        var auxHead = new Option<string>("--aux-head") { Description = "Auxiliary head of early blocks under local learning: dense (RetinaNet-style, as the MAN++ code) | rcnn (one-level Faster R-CNN at the block's stride).", DefaultValueFactory = _ => "dense" };
        var auxMinStride = new Option<int>("--aux-min-stride") { Description = "The dense auxiliary head pools finer block features to this stride.", DefaultValueFactory = _ => 16 };
        var freezeEarly = new Option<int?>("--freeze-early-at") { Description = "Local learning: from this epoch (0-based, as --milestones) the early blocks' backbone units stop learning and run without their auxiliary losses; only the last block trains on." };
        var earlyLr = new Option<double>("--early-lr-scale") { Description = "Learning-rate multiplier for the early blocks' backbone units under local learning (their auxiliary heads and the last block keep the full rate).", DefaultValueFactory = _ => 1.0 };
        var clipGrad = CommonOptions.ClipGradNorm("detectron2's CLIP_GRADIENTS, type norm; none in torchvision");
        var initCopies = new Option<bool>("--init-copies-from-unit") { Description = "MAN/MAN++: start the LB and EMA copies from the (pretrained) weights of the unit they copy (default: fresh initialisation, as the reference code)." };
        var preciseBn = new Option<int>("--precise-bn") { Description = "Recompute the backbone's batch-norm statistics over N training batches before every evaluation (detectron2's PRECISE_BN; 0 = off, as torchvision).", DefaultValueFactory = _ => 0 };
        var returned = new Option<string?>("--returned-layers") { Description = "ResNet stages feeding the FPN, as torchvision's returned_layers: 1,2,3,4 (c2..c5, the default), 2,3,4 (c3..c5, RetinaNet's form; anchors 32..256 px); the backbone ends with the last one (2,3 builds no layer4)." };
        var jitter = new Option<bool>("--jitter") { Description = "Photometric jitter in training (off in torchvision's reference)." };
        var noFlip = new Option<bool>("--no-flip") { Description = "No horizontal flips in training." };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 0 };
        var outDir = new Option<string>("--out") { Description = "Run folder for metrics.json and checkpoints.", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue from RUN_DIR/last.ckpt." };
        var maxBatches = new Option<int>("--max-batches") { Description = "Stop each epoch after this many batches (0 = all).", DefaultValueFactory = _ => 0 };
        var maxEval = new Option<int>("--max-eval-images") { Description = "Evaluate only the first N images per epoch (0 = all).", DefaultValueFactory = _ => 0 };
        var onBad = OnBadOption();
        var synthImages = new Option<int>("--synth-images") { Description = "Images of the synthetic data set (train + val).", DefaultValueFactory = _ => DetectionData.DefaultSyntheticImages };
        var cacheDir = new Option<string?>("--cache-dir") { Description = "Where synthetic data is rendered (default $MAN_CACHE or ~/.cache/man-vision)." };
        var common = CommonOptions.Create();
        var cmd = new Command("detect", "Train a ResNet-FPN Faster R-CNN end-to-end or with local learning (greedy, MAN, MAN++).")
        {
            data, backbone, fpn, method, k, split, epochs, batch, lr, momentum, wd, warmup, schedule, milestones, minSize, maxSize, trainable, norm,
            pretrained, roiSamples, postTrain, postTest, auxHead, auxMinStride, earlyLr, freezeEarly, clipGrad, initCopies, preciseBn, returned, jitter, noFlip, seed, outDir, resume, maxBatches, maxEval, onBad, synthImages, cacheDir,
        };
        common.AddTo(cmd);
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            if (!r.GetValue(fpn)) throw new ArgumentException("Only the FPN detector is implemented: leave out --fpn false.");
            var device = common.Apply(r);
            var m = LocalMethods.Parse(r.GetValue(method)!);
            var options = new DetectionTrainOptions
            {
                Backbone = r.GetValue(backbone)!, Method = m, K = r.GetValue(k) ?? (m == LocalMethod.E2E ? 1 : 4), Split = r.GetValue(split)!,
                Epochs = r.GetValue(epochs), BatchSize = r.GetValue(batch), LearningRate = r.GetValue(lr), Momentum = r.GetValue(momentum),
                WeightDecay = r.GetValue(wd), WarmupIterations = r.GetValue(warmup), Schedule = ParseSchedule(r.GetValue(schedule)!),
                Milestones = ParseInts(r.GetValue(milestones), "--milestones"), MinSize = r.GetValue(minSize), MaxSize = r.GetValue(maxSize),
                TrainableLayers = r.GetValue(trainable), FrozenBatchNorm = ParseNorm(r.GetValue(norm)), Pretrained = r.GetValue(pretrained), RoiSamplesPerImage = r.GetValue(roiSamples),
                RpnPostNmsTrain = r.GetValue(postTrain), RpnPostNmsTest = r.GetValue(postTest), AuxHead = r.GetValue(auxHead)!, AuxMinStride = r.GetValue(auxMinStride), EarlyLrScale = r.GetValue(earlyLr), FreezeEarlyAt = r.GetValue(freezeEarly), ClipGradNorm = r.GetValue(clipGrad), InitializeCopiesFromUnit = r.GetValue(initCopies), PreciseBnBatches = r.GetValue(preciseBn),
                ReturnedLayers = r.GetValue(returned) is string layers ? DetectionModelConfig.ParseReturnedLayers(layers) : null, Jitter = r.GetValue(jitter), Flip = !r.GetValue(noFlip),
                Seed = r.GetValue(seed), MaxBatchesPerEpoch = r.GetValue(maxBatches), MaxEvalImages = r.GetValue(maxEval), Workers = common.Workers(r),
            };
            options.Validate();
            var source = DetectionData.Open(r.GetValue(data)!, new DetectionDataOptions
            {
                OnBad = ParseOnBad(r.GetValue(onBad)!), CacheDir = r.GetValue(cacheDir), SyntheticImages = r.GetValue(synthImages), SyntheticSeed = 0,
            });
            PrintData(source);
            string run = r.GetValue(outDir)!;
            AnsiConsole.MarkupLine($"[bold]train detect[/] {Markup.Escape(options.Backbone)}-FPN {options.Method.Name()} K={options.K} ({Markup.Escape(options.Split)}), " +
                                   $"{options.MinSize}/{options.MaxSize} px, batch {options.BatchSize}, lr {options.EffectiveLearningRate.ToString("0.#####", CultureInfo.InvariantCulture)} " +
                                   $"{options.Schedule.ToString().ToLowerInvariant()}, {options.Epochs} epochs, trainable layers {options.EffectiveTrainableLayers}{(options.EffectiveFrozenBatchNorm ? ", frozen batch norm" : "")}" +
                                   $"{(options.ReturnedLayers is { } fpnLayers ? $", FPN over layers {string.Join(",", fpnLayers)}" : "")}, device {device}");
            var runner = new DetectionRunner();
            runner.PretrainedLoaded += report => AnsiConsole.WriteLine(report.ToText());
            runner.Warning += message => AnsiConsole.MarkupLine("[yellow]warning:[/] " + Markup.Escape(message));
            var history = runner.Train(options, source, run, r.GetValue(resume), device, new ProgressAdapter(new ProgressLine()));
            PrintHistory(history, source.Kind == DetectionDataKind.Voc);
            AnsiConsole.MarkupLine($"metrics: {Markup.Escape(Path.Combine(run, DetectionRunner.MetricsFile))}, checkpoints: {Markup.Escape(Path.Combine(run, DetectionRunner.LastCheckpoint))}, {Markup.Escape(Path.Combine(run, DetectionRunner.BestCheckpoint))}");
            return 0;
        }));
        return cmd;
    }

    /// <summary>The eval command: a checkpoint on a data set, or a detections file against a ground-truth file.</summary>
    public static Command Eval()
    {
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A detection checkpoint to run on --data." };
        var data = new Option<string>("--data") { Description = DataHelp + " (its evaluation split is used)", DefaultValueFactory = _ => "synth" };
        var gt = new Option<string?>("--gt") { Description = "COCO instances json (with --dets: evaluate a detections file)." };
        var dets = new Option<string?>("--dets") { Description = "COCO result json: [{image_id, category_id, bbox [x, y, w, h], score}, …]." };
        var json = new Option<string?>("--json") { Description = "Write the 12 stats (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl) here." };
        var batch = new Option<int>("--batch-size") { Description = "Images per forward pass (1, as torchvision's reference: images of different sizes padded together change the detections slightly).", DefaultValueFactory = _ => 1 };
        var maxImages = new Option<int>("--max-images") { Description = "Evaluate only the first N images (0 = all).", DefaultValueFactory = _ => 0 };
        var preciseBn = new Option<int>("--precise-bn") { Description = "First recompute the backbone's batch-norm statistics over N batches of --data's training split, batched as the checkpoint's run did (as train detect --precise-bn N); the checkpoint file is not changed.", DefaultValueFactory = _ => 0 };
        var preciseBatch = new Option<int?>("--precise-bn-batch-size") { Description = "Batch size of the --precise-bn pass (default: the checkpoint's training batch size; required for checkpoints that do not store it)." };
        var preciseData = new Option<string?>("--precise-bn-data") { Description = "The data set whose training split the --precise-bn pass runs over (default: --data; give the run's training data when --data is a held-out set)." };
        var preciseSeed = new Option<long?>("--precise-bn-seed") { Description = "Loader seed of the --precise-bn pass (default: the checkpoint's training seed, else 0)." };
        var onBad = OnBadOption();
        var synthImages = new Option<int>("--synth-images") { DefaultValueFactory = _ => DetectionData.DefaultSyntheticImages };
        var cacheDir = new Option<string?>("--cache-dir");
        var common = CommonOptions.Create();
        var cmd = new Command("detect", "Evaluate a detection checkpoint (COCO AP, per-category AP, VOC AP50 on VOC data) or a detections file (--gt --dets).")
        { checkpoint, data, gt, dets, json, batch, maxImages, preciseBn, preciseBatch, preciseData, preciseSeed, onBad, synthImages, cacheDir };
        common.AddTo(cmd);
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            string? gtPath = r.GetValue(gt), detsPath = r.GetValue(dets), ckpt = r.GetValue(checkpoint);
            string? jsonPath = r.GetValue(json);
            if (gtPath is not null || detsPath is not null)
            {
                if (gtPath is null || detsPath is null) throw new ArgumentException("Evaluating a detections file needs both --gt GT.json and --dets DETS.json.");
                if (ckpt is not null) throw new ArgumentException("Give either --checkpoint (run a model) or --gt/--dets (evaluate a file), not both.");
                if (r.GetValue(preciseBn) != 0) throw new ArgumentException("--precise-bn recomputes a checkpoint's batch-norm statistics; a detections file has none (leave it out with --gt/--dets).");
                var report = CocoFileEvaluation.Evaluate(gtPath, detsPath, jsonPath);
                Console.Write(report.Result.FormatReport());
                Console.WriteLine();
                Console.Write(report.Result.FormatPerCategoryTable());
                if (jsonPath is not null) AnsiConsole.MarkupLine($"wrote {Markup.Escape(jsonPath)}");
                return 0;
            }
            if (ckpt is null) throw new ArgumentException("Give --checkpoint CKPT (with --data) or --gt GT.json --dets DETS.json.");
            int preciseBatches = r.GetValue(preciseBn);
            if (preciseBatches < 0) throw new ArgumentException($"--precise-bn must be 0 (off) or a number of batches (got {preciseBatches}).");
            var device = common.Apply(r);
            using var model = DetectionModel.Load(ckpt, device);
            var source = DetectionData.Open(r.GetValue(data)!, new DetectionDataOptions
            {
                OnBad = ParseOnBad(r.GetValue(onBad)!), CacheDir = r.GetValue(cacheDir), SyntheticImages = r.GetValue(synthImages),
            });
            if (!source.Classes.SequenceEqual(model.Classes))
                throw new ArgumentException($"The checkpoint's classes ({string.Join(", ", model.Classes.Take(5))}{(model.Classes.Count > 5 ? ", …" : "")}) differ from those of {source.Spec} ({string.Join(", ", source.Classes.Take(5))}{(source.Classes.Count > 5 ? ", …" : "")}).");
            PrintData(source);
            JObject? preciseDoc = null;
            if (preciseBatches > 0)
            {
                var loaderOf = DetectionRunner.TrainingLoaderOf(ckpt);
                int preciseBatchSize = r.GetValue(preciseBatch) ?? loaderOf.BatchSize
                    ?? throw new ArgumentException($"{ckpt} does not store its training batch size (written before it was stored): give --precise-bn-batch-size.");
                if (preciseBatchSize < 1) throw new ArgumentException($"--precise-bn-batch-size must be positive (got {preciseBatchSize}).");
                long preciseSeedValue = r.GetValue(preciseSeed) ?? loaderOf.Seed ?? 0;
                var preciseSource = r.GetValue(preciseData) is string spec
                    ? DetectionData.Open(spec, new DetectionDataOptions { OnBad = ParseOnBad(r.GetValue(onBad)!), CacheDir = r.GetValue(cacheDir), SyntheticImages = r.GetValue(synthImages) })
                    : source;
                if (!preciseSource.Classes.SequenceEqual(model.Classes))
                    throw new ArgumentException($"The checkpoint's classes differ from those of {preciseSource.Spec} (--precise-bn-data).");
                if (preciseSource.ValIsTrain && ReferenceEquals(preciseSource, source))
                    AnsiConsole.MarkupLine($"[yellow]warning:[/] {Markup.Escape(source.Spec)} evaluates on its training split: the --precise-bn pass sees the evaluation images (give the run's training data with --precise-bn-data).");
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var (layers, used) = DetectionRunner.RecomputeBatchNorm(model, preciseSource, preciseBatches, preciseBatchSize, preciseSeedValue, loaderOf.Epoch, device,
                    common.Workers(r), loaderOf.Flip ?? true, loaderOf.Jitter ?? false);
                AnsiConsole.MarkupLine(layers == 0
                    ? "precise batch norm: the checkpoint has no batch-norm layer in training mode (frozen batch norm); nothing recomputed"
                    : $"precise batch norm: {layers} layers recomputed over {used} training batches of {preciseBatchSize} (seed {preciseSeedValue}, pass of epoch {loaderOf.Epoch + 1}), {clock.Elapsed.TotalSeconds:0.0} s");
                preciseDoc = new JObject { ["data"] = preciseSource.Spec, ["layers"] = layers, ["batches"] = layers == 0 ? 0 : used, ["batch_size"] = preciseBatchSize, ["seed"] = preciseSeedValue, ["epoch"] = loaderOf.Epoch };
            }
            var eval = DetectionInference.Evaluate(model.Detector, source.Val, source.Kind == DetectionDataKind.Voc, r.GetValue(batch), common.Workers(r),
                r.GetValue(maxImages), device);
            Console.Write(eval.CocoResult.FormatReport());
            Console.WriteLine();
            Console.Write(eval.CocoResult.FormatPerCategoryTable());
            if (eval.VocTable is not null)
            {
                Console.WriteLine();
                Console.WriteLine("PASCAL VOC AP at IoU 0.5 (VOC2010+ area AP and VOC07 11-point), in %:");
                Console.Write(eval.VocTable);
            }
            AnsiConsole.MarkupLine($"{eval.Images} images, {eval.Seconds:0.0} s ({eval.Images / Math.Max(1e-9, eval.ModelSeconds):0.00} images/s in the model)");
            if (jsonPath is not null)
            {
                var doc = new JObject();
                foreach (var (key, value) in eval.Stats) doc[key] = value;
                doc["per_category_AP"] = new JObject(eval.Coco.Where(kv => kv.Key.StartsWith("AP-", StringComparison.Ordinal)).Select(kv => new JProperty(kv.Key[3..], kv.Value)));
                if (eval.Voc is not null)
                {
                    doc["VOC_AP50"] = eval.Voc["mAP"];
                    doc["VOC07_AP50"] = eval.Voc["mAP07"];
                    doc["VOC_per_class_AP50"] = new JObject(eval.Voc.Where(kv => kv.Key.StartsWith("VOC-AP-", StringComparison.Ordinal)).Select(kv => new JProperty(kv.Key[7..], kv.Value)));
                }
                doc["images"] = eval.Images;
                doc["checkpoint"] = Path.GetFullPath(ckpt);
                doc["data"] = source.Spec;
                if (preciseDoc is not null) doc["precise_bn"] = preciseDoc;
                string? dir = Path.GetDirectoryName(Path.GetFullPath(jsonPath));
                if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
                File.WriteAllText(jsonPath, doc.ToString(Formatting.Indented));
                AnsiConsole.MarkupLine($"wrote {Markup.Escape(jsonPath)}");
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>The predict command.</summary>
    public static Command Predict()
    {
        var checkpoint = new Option<string>("--checkpoint") { Required = true };
        var images = new Option<string[]>("--images") { Description = "Image files and/or folders.", Required = true, AllowMultipleArgumentsPerToken = true };
        var outDir = new Option<string>("--out") { Description = "Folder for detections.json, images.json and the drawn PNGs.", Required = true };
        var score = new Option<double>("--score") { Description = "Keep (write and draw) detections with at least this score.", DefaultValueFactory = _ => 0.5 };
        var noDraw = new Option<bool>("--no-draw") { Description = "Write only the json files." };
        var common = CommonOptions.Create();
        var cmd = new Command("detect", "Detect objects in images: COCO-format json (image_id, category_id, bbox xywh, score) and PNGs with boxes, labels and scores.")
        { checkpoint, images, outDir, score, noDraw };
        common.AddTo(cmd);
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var device = common.Apply(r);
            var files = DetectionPredictor.ListImages(r.GetValue(images)!);
            using var model = DetectionModel.Load(r.GetValue(checkpoint)!, device);
            var summary = DetectionPredictor.Run(model.Detector, model.Classes, model.Config.CategoryIds, files, r.GetValue(outDir)!, r.GetValue(score),
                !r.GetValue(noDraw), device);
            AnsiConsole.MarkupLine($"{summary.Images} images, {summary.Detections} detections with score ≥ {r.GetValue(score).ToString(CultureInfo.InvariantCulture)} " +
                                   $"({summary.Images / Math.Max(1e-9, summary.Seconds):0.00} images/s)");
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(summary.DetectionsJson)}, {Markup.Escape(summary.ImagesJson)} and {summary.Drawings.Count} images in {Markup.Escape(r.GetValue(outDir)!)}");
            return 0;
        }));
        return cmd;
    }

    private static Option<string> OnBadOption() =>
        new("--on-bad") { Description = "fail (default: stop with a message naming the file) | skip (leave bad images/annotations out and count them)", DefaultValueFactory = _ => "fail" };

    private static OnBad ParseOnBad(string value) => value.Trim().ToLowerInvariant() switch
    {
        "fail" => OnBad.Fail,
        "skip" => OnBad.Skip,
        _ => throw new ArgumentException($"--on-bad must be fail or skip (got '{value}')."),
    };

    private static DetectionSchedule ParseSchedule(string value) => value.Trim().ToLowerInvariant() switch
    {
        "step" or "multistep" => DetectionSchedule.Step,
        "cosine" => DetectionSchedule.Cosine,
        _ => throw new ArgumentException($"--schedule must be step or cosine (got '{value}')."),
    };

    private static IReadOnlyList<int>? ParseInts(string? value, string name)
    {
        if (value is null) return null;
        var list = new List<int>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            list.Add(int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
                : throw new ArgumentException($"{name}: '{part}' is not a whole number (give e.g. 8,11)."));
        return list;
    }

    private static void PrintData(DetectionDataSource source)
    {
        AnsiConsole.MarkupLine($"data {Markup.Escape(source.Spec)}: {source.Train.Images.Count} training images ({source.Train.ObjectCount} objects), " +
                               $"{(source.ValIsTrain ? "evaluated on the training images (no separate split)" : $"{source.Val.Images.Count} evaluation images ({source.Val.ObjectCount} objects)")}, " +
                               $"{source.Classes.Count} classes: {Markup.Escape(string.Join(", ", source.Classes.Take(10)))}{(source.Classes.Count > 10 ? ", …" : "")}");
        foreach (var log in new[] { source.Train.Log, source.Val.Log }.Distinct())
            if (!log.IsEmpty) AnsiConsole.WriteLine(log.ToString());
    }

    private static void PrintHistory(IReadOnlyList<DetectionEpochMetrics> history, bool voc)
    {
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().AddColumns("epoch", "loss per block", "cls / box / obj / rpn", "AP", "AP50", "AP75");
        if (voc) table.AddColumn("VOC AP50");
        table.AddColumns("step ms", "img/s", "peak RSS MiB");
        foreach (var h in history)
        {
            string Named(string key) => h.Losses.TryGetValue(key, out var v) ? v.ToString("0.000", inv) : "-";
            var row = new List<string>
            {
                (h.Epoch + 1).ToString(inv), ProgressLine.BlockLosses(h.TrainLossPerBlock),
                $"{Named("loss_classifier")} / {Named("loss_box_reg")} / {Named("loss_objectness")} / {Named("loss_rpn_box_reg")}",
                Percent(h.Coco.GetValueOrDefault("AP", double.NaN)), Percent(h.Coco.GetValueOrDefault("AP50", double.NaN)), Percent(h.Coco.GetValueOrDefault("AP75", double.NaN)),
            };
            if (voc) row.Add(h.VocAp50 is double v ? Percent(v) : "-");
            row.AddRange([h.StepTimeMsMedian.ToString("0", inv), h.ImagesPerSecond.ToString("0.00", inv), h.PeakRssMiB.ToString("0", inv)]);
            table.AddRow(row.Select(Markup.Escape).ToArray());
        }
        AnsiConsole.Write(table);

        string Percent(double v) => double.IsNaN(v) || v < 0 ? "-" : (100 * v).ToString("0.00", inv);
    }

    /// <summary>Shows detection progress on the shared progress line.</summary>
    private sealed class ProgressAdapter(ProgressLine line) : IProgress<DetectionTrainProgress>
    {
        public void Report(DetectionTrainProgress p) =>
            line.Report(new TrainProgress(p.Epoch, p.Epochs, p.Batch, p.Batches, p.ImagesPerSecond, p.Eta, p.BlockLosses, p.S, p.LearningRate));
    }

    private static bool? ParseNorm(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null => null,
        "frozen" or "frozenbn" => true,
        "bn" or "batchnorm" => false,
        _ => throw new ArgumentException($"--backbone-norm takes frozen or bn (got '{value}')."),
    };
}
