using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Man.Runtime;
using Man.Vision.Data.Batching;
using Man.Vision.Data.Coco;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.DetectionTransforms;
using Man.Vision.Data.Loading;
using Man.Vision.Data.Segmentation;
using Man.Vision.Detection.Models;
using Man.Vision.Segmentation.Losses;
using Man.Vision.Segmentation.Models;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Cli.Commands;

/// <summary>One training-step-versus-loader measurement of <c>bench data</c>.</summary>
/// <param name="Dataset">What was loaded.</param>
/// <param name="Model">What the consumer ran per batch.</param>
/// <param name="Workers">Loader worker threads.</param>
/// <param name="BatchSize">Images per batch.</param>
/// <param name="Steps">Timed steps (after one untimed warm-up step).</param>
/// <param name="MedianStepMs">Median time of one step (the consumer's compute, no waiting).</param>
/// <param name="LoaderMsPerBatch">The time the loader alone needs per batch with these workers (from the throughput run).</param>
/// <param name="SteadyWaitMs">Total time the consumer waited for batches within an epoch (warm-up batch excluded).</param>
/// <param name="EpochStartWaitMs">Total time it waited for the first batch of later epochs (the workers restart per epoch).</param>
/// <param name="NotReady">Batches that were not built yet when asked for (the loader's count; the first batch of each epoch excluded).</param>
/// <param name="Simulated">True when the step was a sleep of <c>--step-ms</c> rather than a real training step.</param>
public sealed record StepVersusData(string Dataset, string Model, int Workers, int BatchSize, int Steps, double MedianStepMs, double LoaderMsPerBatch,
    double SteadyWaitMs, double EpochStartWaitMs, int NotReady, bool Simulated);

/// <summary>
/// <c>man-vision bench data</c>: images/s of decode + augment + batch on CamVid and tiny-coco with 1 and 2 worker threads,
/// and a training loop fed by the loader that shows whether the training step ever waits on data.
/// </summary>
public static class DataBenchmark
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    /// <summary>The CamVid batch size (DataThroughput's default).</summary>
    public const int CamVidBatch = 8;

    /// <summary>The COCO batch size (DataThroughput's default).</summary>
    public const int CocoBatch = 4;

    /// <summary>The <c>bench data</c> command.</summary>
    public static Command Create()
    {
        var camvid = new Option<string?>("--camvid") { Description = "CamVid root (train.txt, train/, trainannot/). Default: $MAN_DATA/camvid or ../shared/data/camvid." };
        var coco = new Option<string?>("--coco") { Description = "A COCO instances json. Default: tiny-coco/instances_train2017_small.json of the data folder." };
        var cocoImages = new Option<string?>("--coco-images") { Description = "The COCO image folder (default: found from the json)." };
        var json = new Option<string?>("--json") { Description = "Write the results as json here." };
        var images = new Option<int>("--images") { Description = "Images delivered per throughput run (after an untimed warm-up batch).", DefaultValueFactory = _ => 64 };
        var workers = new Option<string>("--workers") { Description = "Comma-separated worker counts.", DefaultValueFactory = _ => "1,2" };
        var threads = new Option<int>("--threads") { Description = "Torch intra-op threads during the benchmark.", DefaultValueFactory = _ => 1 };
        var steps = new Option<int>("--train-steps") { Description = "Timed training steps fed by the loader per data set (0 skips the comparison).", DefaultValueFactory = _ => 3 };
        var datasets = new Option<string>("--datasets") { Description = "Comma-separated: camvid, coco.", DefaultValueFactory = _ => "camvid,coco" };
        var stepMs = new Option<double?>("--step-ms") { Description = "Simulate the training step as a sleep of this many ms instead of running a real one." };
        var cmd = new Command("data", "Images/s of decode + augment + batch on CamVid and tiny-coco with 1 and 2 workers, and consumer wait behind a training step.")
        { camvid, coco, cocoImages, json, images, workers, threads, steps, stepMs, datasets };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var counts = r.GetValue(workers)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(w => int.TryParse(w, NumberStyles.Integer, Ci, out int v) && v is >= 1 and <= 64 ? v : throw new ArgumentException($"--workers: '{w}' is not a worker count in 1..64."))
                .Distinct().ToArray();
            if (counts.Length == 0) throw new ArgumentException("--workers lists no worker count.");
            if (r.GetValue(images) < 1) throw new ArgumentException("--images must be at least 1.");
            if (r.GetValue(threads) < 1) throw new ArgumentException("--threads must be at least 1.");
            if (r.GetValue(stepMs) is double s && (s <= 0 || !double.IsFinite(s))) throw new ArgumentException($"--step-ms must be a positive number of milliseconds, got {s}.");
            var which = r.GetValue(datasets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(d => d.ToLowerInvariant()).ToHashSet();
            var unknown = which.Where(d => d is not ("camvid" or "coco")).ToList();
            if (unknown.Count > 0 || which.Count == 0) throw new ArgumentException($"--datasets: unknown {string.Join(", ", unknown)}; valid: camvid, coco.");
            return Run(which.Contains("camvid"), which.Contains("coco"), r.GetValue(camvid), r.GetValue(coco), r.GetValue(cocoImages), r.GetValue(json), r.GetValue(images), counts, r.GetValue(threads),
                Math.Max(0, r.GetValue(steps)), r.GetValue(stepMs));
        }));
        return cmd;
    }

    private static int Run(bool useCamVid, bool useCoco, string? camvid, string? coco, string? cocoImages, string? jsonPath, int images, int[] workers, int threads, int steps, double? stepMs)
    {
        bool camvidGiven = camvid is not null, cocoGiven = coco is not null;
        string? root = DataPaths.Root();
        camvid ??= root is null ? null : Path.Combine(root, "camvid");
        coco ??= root is null ? null : Path.Combine(root, "tiny-coco", "instances_train2017_small.json");
        bool haveCamVid = useCamVid && camvid is not null && File.Exists(Path.Combine(camvid, "train.txt"));
        bool haveCoco = useCoco && coco is not null && File.Exists(coco);
        if (useCamVid && camvidGiven && !haveCamVid)
            throw new BadInputException("missing-data", camvid!, "is not a CamVid root (train.txt is missing)");
        if (useCoco && cocoGiven && !haveCoco)
            throw new BadInputException("missing-annotations", coco!, "the COCO json does not exist");
        if (!haveCamVid && !haveCoco)
            throw new ArgumentException("No data to benchmark: " + string.Join(" and ", new[]
                {
                    useCamVid ? "CamVid was looked for at " + (camvid ?? DataPaths.Describe("camvid")) : null,
                    useCoco ? "tiny-coco at " + (coco ?? DataPaths.Describe("tiny-coco/instances_train2017_small.json")) : null,
                }.OfType<string>()) + ". Give --camvid DIR and/or --coco JSON, or set MAN_DATA.");
        if (useCamVid && !haveCamVid) Console.Out.WriteLine($"camvid: not found at {(camvid ?? DataPaths.Describe("camvid"))}; skipped (give --camvid DIR)");
        if (useCoco && !haveCoco) Console.Out.WriteLine($"tiny-coco: not found at {(coco ?? DataPaths.Describe("tiny-coco"))}; skipped (give --coco JSON)");
        if (haveCoco) cocoImages ??= DataSetLocator.FindCocoImageDir(coco!, Path.GetDirectoryName(Path.GetFullPath(coco!))!);

        int before = torch.get_num_threads();
        Devices.SetThreads(threads);
        try
        {
            Console.Out.WriteLine($"bench data: torch intra-op threads set to {threads} (was {before}) for this benchmark: with 2 intra-op threads the loader's");
            Console.Out.WriteLine("  tensor work and the workers compete for the same 2 cores and the 1-worker path slows down. Loader workers are .NET threads.");
            Console.Out.WriteLine($"  {Environment.ProcessorCount} logical cores; the machine may be shared and loaded, so numbers vary from run to run.");
            Console.Out.WriteLine($"decode + augment + batch, {images} images per run (after an untimed warm-up batch):");
            var throughput = new List<ThroughputResult>();
            if (haveCamVid)
                foreach (var t in DataThroughput.CamVid(camvid!, workers, images, CamVidBatch)) { Console.Out.WriteLine("  " + t); throughput.Add(t); }
            if (haveCoco)
                foreach (var t in DataThroughput.Coco(coco!, cocoImages!, workers, images, CocoBatch)) { Console.Out.WriteLine("  " + t); throughput.Add(t); }

            var comparisons = new List<StepVersusData>();
            if (steps > 0)
            {
                int w = workers.Min();
                Console.Out.WriteLine(stepMs is null
                    ? $"training step fed by the loader ({w} worker{(w == 1 ? "" : "s")}, {steps} timed steps after a warm-up step, {threads} torch thread{(threads == 1 ? "" : "s")}):"
                    : $"simulated training step of {stepMs:0} ms (a sleep) fed by the loader ({w} worker{(w == 1 ? "" : "s")}, {steps} steps):");
                if (haveCamVid)
                {
                    double perBatch = MsPerBatch(throughput.FirstOrDefault(t => t.Dataset.StartsWith("camvid", StringComparison.Ordinal) && t.Workers == w), CamVidBatch);
                    comparisons.Add(CamVidSteps(camvid!, w, steps, stepMs, perBatch));
                }
                if (haveCoco)
                {
                    double perBatch = MsPerBatch(throughput.FirstOrDefault(t => !t.Dataset.StartsWith("camvid", StringComparison.Ordinal) && t.Workers == w), CocoBatch);
                    comparisons.Add(CocoSteps(coco!, cocoImages!, w, steps, stepMs, perBatch));
                }
                foreach (var c in comparisons) Console.Out.Write(Describe(c));
            }

            if (jsonPath is not null)
            {
                var doc = new JObject
                {
                    ["torch_threads"] = threads,
                    ["logical_cores"] = Environment.ProcessorCount,
                    ["images_per_run"] = images,
                    ["throughput"] = new JArray(throughput.Select(t => new JObject
                    {
                        ["dataset"] = t.Dataset, ["workers"] = t.Workers, ["images"] = t.Images, ["seconds"] = t.Seconds,
                        ["images_per_second"] = t.ImagesPerSecond, ["batches_not_ready"] = t.NotReady, ["consumer_wait_seconds"] = t.ConsumerWaitSeconds,
                    })),
                    ["training_step_vs_data"] = new JArray(comparisons.Select(c => new JObject
                    {
                        ["dataset"] = c.Dataset, ["model"] = c.Model, ["workers"] = c.Workers, ["batch_size"] = c.BatchSize, ["steps"] = c.Steps,
                        ["simulated"] = c.Simulated, ["median_step_ms"] = c.MedianStepMs,
                        ["loader_ms_per_batch"] = double.IsFinite(c.LoaderMsPerBatch) ? c.LoaderMsPerBatch : null,
                        ["wait_within_epochs_ms"] = c.SteadyWaitMs, ["batches_not_ready"] = c.NotReady, ["wait_at_epoch_starts_ms"] = c.EpochStartWaitMs,
                    })),
                };
                string? parent = Path.GetDirectoryName(Path.GetFullPath(jsonPath));
                if (parent is not null) Directory.CreateDirectory(parent);
                File.WriteAllText(jsonPath, doc.ToString(Formatting.Indented));
                Console.Out.WriteLine($"json: {Path.GetFullPath(jsonPath)}");
            }
            return 0;
        }
        finally
        {
            torch.set_num_threads(before);
        }
    }

    private static double MsPerBatch(ThroughputResult? t, int batch) => t is { ImagesPerSecond: > 0 } ? 1000.0 * batch / t.ImagesPerSecond : double.NaN;

    private static string Describe(StepVersusData c)
    {
        int waitedSteps = c.Steps;
        double share = c.MedianStepMs > 0 ? c.SteadyWaitMs / (c.Steps * c.MedianStepMs) : double.NaN;
        string verdict = c.NotReady == 0 ? "training never waited on data within an epoch"
            : share < 0.01 ? $"data wait {100 * share:0.##}% of the step time: training effectively never waits"
            : $"training WAITED on data ({100 * share:0.#}% of the step time)";
        var sb = new System.Text.StringBuilder();
        sb.AppendLine(Ci, $"  {c.Dataset}: {c.Model}");
        sb.AppendLine(Ci, $"    step {c.MedianStepMs:0} ms (median) vs loader {c.LoaderMsPerBatch:0} ms per batch of {c.BatchSize} with {c.Workers} worker{(c.Workers == 1 ? "" : "s")} " +
                          $"({(c.LoaderMsPerBatch > 0 ? c.MedianStepMs / c.LoaderMsPerBatch : double.NaN):0.0}x headroom)");
        sb.AppendLine(Ci, $"    consumer wait over {waitedSteps} steps: {c.SteadyWaitMs:0.0} ms within epochs ({c.NotReady} batch{(c.NotReady == 1 ? "" : "es")} not ready), " +
                          $"{c.EpochStartWaitMs:0.0} ms at epoch starts (workers restart per epoch) -> {verdict}");
        return sb.ToString();
    }

    private static LoaderOptions Options(int workers, int batchSize) =>
        new() { Workers = workers, BatchSize = batchSize, Shuffle = true, Seed = 0, Prefetch = Math.Max(2, workers + 1) };

    private static StepVersusData CamVidSteps(string root, int workers, int steps, double? stepMs, double loaderMs)
    {
        var ds = SegmentationReader.ReadCamVid(root, "train");
        var loader = DataLoaders.Segmentation(new SegmentationMapper(ds, SegmentationCompose.Train(320, 320)), Options(workers, CamVidBatch));
        if (stepMs is double ms)
            return Loop(loader, steps, _ => Thread.Sleep(TimeSpan.FromMilliseconds(ms)), "camvid train (crop 320)", $"sleep {ms:0} ms per batch", workers, CamVidBatch, loaderMs, true);
        using var model = SegmentationModel.Create(ResNetSegmentationBackbone.Create("resnet18", 32), SegmentationHeadKind.Fcn, ds.NumClasses, auxLoss: false);
        model.train();
        using var optimizer = optim.SGD(model.parameters(), 0.01, momentum: 0.9);
        var criterion = new SegmentationCriterion();
        return Loop(loader, steps, batch =>
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var losses = criterion.Losses(model.forward(batch.Images), batch.Labels);
            losses.Values.Aggregate((a, b) => a + b).backward();
            optimizer.step();
        }, "camvid train (crop 320)", "FCN ResNet-18 (output stride 32, 11 classes) forward + backward + SGD step", workers, CamVidBatch, loaderMs, false);
    }

    private static StepVersusData CocoSteps(string json, string imageDir, int workers, int steps, double? stepMs, double loaderMs)
    {
        var ds = CocoReader.Read(json, imageDir);
        string name = $"{ds.Name} (320/512)";
        if (stepMs is double ms)
        {
            var sleepLoader = DataLoaders.Detection(new DetectionMapper(ds, DetectionCompose.Train([320], 512, normalize: true)), Options(workers, CocoBatch));
            return Loop(sleepLoader, steps, _ => Thread.Sleep(TimeSpan.FromMilliseconds(ms)), name, $"sleep {ms:0} ms per batch", workers, CocoBatch, loaderMs, true);
        }
        // The detector normalises itself (its transform takes [0, 1] images), so the loader leaves that step out; crowd
        // objects are dropped as torchvision's reference training does.
        var loader = DataLoaders.Detection(new DetectionMapper(ds, DetectionCompose.Train([320], 512, normalize: false), new DetectionMapperOptions(DropCrowd: true)),
            Options(workers, CocoBatch));
        var options = new FasterRcnnOptions { NumClasses = ds.Categories.Count + 1, Transform = new TransformOptions { MinSize = [320], MaxSize = 512 } };
        using var detector = FasterRcnn.CreateResNetFpn(options, "resnet18");
        detector.train();
        using var optimizer = optim.SGD(detector.parameters().Where(p => p.requires_grad), 0.01, momentum: 0.9);
        return Loop(loader, steps, batch =>
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var images = batch.ImageSizes.Select((size, i) => batch.Images[i].narrow(1, 0, size.Height).narrow(2, 0, size.Width)).ToList();
            var targets = batch.Targets.Select(t => new Man.Vision.Detection.Models.DetectionTarget(t.Boxes, t.Labels)).ToList();
            var losses = detector.ComputeLosses(images, targets);
            losses.Values.Aggregate((a, b) => a + b).backward();
            optimizer.step();
        }, name, $"Faster R-CNN ResNet-18 FPN ({options.NumClasses} classes, torchvision defaults, trainable layers 3) forward + backward + SGD step",
            workers, CocoBatch, loaderMs, false);
    }

    /// <summary>
    /// Runs one untimed warm-up step and <paramref name="steps"/> timed steps, each on the next batch of the loader (epochs
    /// follow one another), timing the step and the wait for each batch.
    /// </summary>
    private static StepVersusData Loop<TSample, TBatch>(PrefetchLoader<TSample, TBatch> loader, int steps, Action<TBatch> step,
        string dataset, string model, int workers, int batchSize, double loaderMs, bool simulated)
        where TSample : class
        where TBatch : class, ILoaderBatch
    {
        var stepMs = new List<double>();
        double steadyWait = 0, epochStartWait = 0;
        int notReady = 0, done = 0;
        for (int epoch = 0; done < steps + 1; epoch++)
        {
            double firstWait = 0;
            bool any = false;
            using (var batches = loader.Epoch(epoch).GetEnumerator())
            {
                while (done < steps + 1)
                {
                    var clock = Stopwatch.StartNew();
                    if (!batches.MoveNext()) break;
                    double waited = clock.Elapsed.TotalMilliseconds;
                    using var batch = batches.Current;
                    if (!any)
                    {
                        firstWait = waited;
                        if (done > 0) epochStartWait += waited;
                    }
                    any = true;
                    clock.Restart();
                    step(batch);
                    if (done > 0) stepMs.Add(clock.Elapsed.TotalMilliseconds);
                    done++;
                }
            }
            if (!any) throw new InvalidOperationException($"{dataset}: an epoch delivered no batch (every sample skipped?).");
            // The loader's own count of batches that were not built when asked for, and the time waited for them; the first
            // batch of an epoch is built only after the workers start (it took far more than 1 ms if it was not ready).
            var stats = loader.LastEpoch!;
            bool firstNotReady = firstWait > 1;
            notReady += Math.Max(0, stats.NotReady - (firstNotReady ? 1 : 0));
            steadyWait += Math.Max(0, stats.ConsumerWait.TotalMilliseconds - (firstNotReady ? firstWait : 0));
        }
        stepMs.Sort();
        double median = stepMs.Count == 0 ? 0 : stepMs.Count % 2 == 1 ? stepMs[stepMs.Count / 2] : (stepMs[stepMs.Count / 2 - 1] + stepMs[stepMs.Count / 2]) / 2;
        return new StepVersusData(dataset, model, workers, batchSize, steps, median, loaderMs, steadyWait, epochStartWait, notReady, simulated);
    }
}
