using System.Globalization;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Man.Cli.Commands;

/// <summary>One run folder's <c>metrics.json</c> reduced to the chosen metric's curve and the run's settings.</summary>
/// <param name="Name">The run folder's name.</param>
/// <param name="Path">The metrics file.</param>
/// <param name="Task">classify | detect | segment.</param>
/// <param name="Method">e2e | greedy | infopro | man | manpp.</param>
/// <param name="K">Local blocks.</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="Metric">The metric the curve holds.</param>
/// <param name="Settings">Every scalar setting of the run except its seed and bookkeeping (the grouping key).</param>
/// <param name="Curve">The metric after each completed epoch (NaN where the epoch was not evaluated).</param>
/// <param name="EpochsPlanned">Epochs the run was started for.</param>
/// <param name="Stopped">The run stopped on a non-finite loss.</param>
/// <param name="PeakRssMiB">Highest peak RSS over the epochs.</param>
/// <param name="StepMsMedian">Median step time of the last epoch.</param>
/// <param name="EvalPath">
/// The evaluation json (<c>eval … --json</c>, e.g. of <c>last.ckpt</c> on a held-out set) the final value was read from,
/// or null when it is the last evaluated epoch's.
/// </param>
/// <param name="EvalValue">The metric in that file (NaN where it has none, e.g. pycocotools' −1).</param>
public sealed record RunSummary(string Name, string Path, string Task, string Method, int K, long Seed, string Metric, IReadOnlyDictionary<string, string> Settings,
    double[] Curve, int EpochsPlanned, bool Stopped, double PeakRssMiB, double StepMsMedian, string? EvalPath = null, double EvalValue = double.NaN)
{
    /// <summary>The metric of the evaluation file if one was read, else after the last evaluated epoch (NaN if none was evaluated).</summary>
    public double Final => EvalPath is not null ? EvalValue : Curve.LastOrDefault(double.IsFinite, double.NaN);

    /// <summary>The best evaluated value (NaN if none).</summary>
    public double Best => Curve.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();

    /// <summary>Completed epochs.</summary>
    public int Epochs => Curve.Length;

    /// <summary>The run ended before its planned epochs (stopped or still running).</summary>
    public bool Incomplete => Stopped || Curve.Length < EpochsPlanned;
}

/// <summary>Runs with the same settings apart from the seed, and their final metric's statistics.</summary>
/// <param name="Label">Method, K and the settings that tell this group from the others.</param>
/// <param name="Runs">The runs, by seed.</param>
/// <param name="Mean">Mean final metric.</param>
/// <param name="Std">Sample standard deviation (n − 1; NaN for one run).</param>
/// <param name="DeltaToE2e">Mean final metric minus that of the e2e group (null without exactly one e2e group, or for it).</param>
/// <param name="PairedDelta">
/// Mean over the seeds both groups ran of (this run − the e2e run of the same seed), with its sample standard deviation
/// and the number of pairs (null without common seeds).
/// </param>
public sealed record RunGroup(string Label, IReadOnlyList<RunSummary> Runs, double Mean, double Std, double? DeltaToE2e,
    (double Mean, double Std, int Pairs)? PairedDelta)
{
    /// <summary>Smallest final metric.</summary>
    public double Min => Runs.Min(r => r.Final);

    /// <summary>Largest final metric.</summary>
    public double Max => Runs.Max(r => r.Final);
}

/// <summary>
/// <c>man-vision report</c>: reads the <c>metrics.json</c> of run folders of one task, takes one metric per epoch, and
/// groups runs whose settings differ only in the seed (mean ± standard deviation, and the difference to e2e, paired by
/// seed where the seeds match).
/// </summary>
public static class RunReport
{
    /// <summary>Settings that do not define a configuration: they differ between runs of the same one.</summary>
    private static readonly HashSet<string> Bookkeeping =
        ["seed", "stopped_on_non_finite_loss", "torch_threads", "warnings", "epochs", "epochs_planned", "out", "resumed"];

    /// <summary>Metric names per task (percent values), the first being the default.</summary>
    public static IReadOnlyList<string> Metrics(string task, string? dataKind = null) => task switch
    {
        "classify" => ["top1"],
        "detect" when dataKind == "voc" => ["voc_ap50", "voc07_ap50", "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"],
        "detect" => ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl", "voc_ap50", "voc07_ap50"],
        "segment" => ["mIoU", "aAcc", "mAcc"],
        _ => throw new InvalidDataException($"unknown task '{task}' (expected classify, detect or segment)."),
    };

    /// <summary>Reads one run folder (or its metrics.json) and takes <paramref name="metric"/> (null: the task's default).</summary>
    /// <param name="run">A run folder or its metrics.json.</param>
    /// <param name="metric">The metric, or null for the task's default.</param>
    /// <param name="atEpoch">Compare after this epoch (1-based; the curve is cut there) instead of after the last.</param>
    /// <param name="evalFile">
    /// A file name inside the run folder, written by <c>eval detect|segment|classify --json</c>: the final value is read from
    /// it instead of from the last epoch (the curve stays the training-time one).
    /// </param>
    public static RunSummary Load(string run, string? metric, int? atEpoch = null, string? evalFile = null)
    {
        if (evalFile is not null && atEpoch is not null)
            throw new ArgumentException("--eval and --epoch both choose the compared value; give one of them.");
        if (evalFile is not null && (evalFile.Length == 0 || System.IO.Path.IsPathRooted(evalFile)))
            throw new ArgumentException($"--eval takes a file name inside each run folder, e.g. heldout.json (got '{evalFile}').");
        string path = File.Exists(run) ? run : System.IO.Path.Combine(run, "metrics.json");
        if (!File.Exists(path))
            throw new FileNotFoundException(Directory.Exists(run)
                ? $"{path}: no such file (is '{run}' a run folder of train classify, detect or segment?)."
                : $"{run}: no such run folder or metrics file.", path);
        JObject doc;
        try
        {
            doc = JObject.Parse(File.ReadAllText(path));
        }
        catch (JsonReaderException e)
        {
            throw new InvalidDataException($"{path}: not valid json ({e.Message}).");
        }
        string task = doc.Value<string>("task") ?? throw new InvalidDataException($"{path}: no 'task' field; not a man-vision metrics file.");
        if (task is not ("classify" or "detect" or "segment"))
            throw new InvalidDataException($"{path}: unknown task '{task}' (expected classify, detect or segment).");
        if (doc["epochs"] is not JArray epochs) throw new InvalidDataException($"{path}: no 'epochs' list; not a man-vision metrics file.");
        var names = Metrics(task, doc.Value<string>("data_kind"));
        metric ??= names[0];
        if (!names.Contains(metric))
            throw new ArgumentException($"--metric {metric} is not a {task} metric; use one of {string.Join(", ", names)}.");
        try
        {
            double[] curve = epochs.Select(e => Value((JObject)e, task, metric)).ToArray();
            int planned = doc.Value<int?>("epochs_planned") ?? curve.Length;
            if (atEpoch is int at)
            {
                if (at < 1) throw new ArgumentException($"--epoch must be at least 1 (got {at}).");
                if (curve.Length < at) throw new ArgumentException($"{path}: the run has {curve.Length} completed epochs, fewer than --epoch {at}.");
                curve = curve[..at];
                planned = at;
            }
            string peakKey = task == "segment" ? "peak_rss_mib" : "PeakRssMiB";
            string stepKey = task == "segment" ? "step_time_ms_median" : "StepTimeMsMedian";
            // A null setting counts as one not given (older runs lack later options; both mean "off").
            var settings = doc.Properties().Where(p => !Bookkeeping.Contains(p.Name) && p.Value is JValue { Type: not JTokenType.Null })
                .ToDictionary(p => p.Name, p => Convert.ToString(((JValue)p.Value).Value, CultureInfo.InvariantCulture) ?? "null");
            string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
            string? evalPath = evalFile is null ? null : System.IO.Path.Combine(folder, evalFile);
            return new RunSummary(System.IO.Path.GetFileName(folder) ?? run, path, task,
                doc.Value<string>("method") ?? "?", doc.Value<int?>("k") ?? 1, doc.Value<long?>("seed") ?? 0, metric, settings, curve,
                planned, doc.Value<bool?>("stopped_on_non_finite_loss") ?? false,
                epochs.Select(e => e.Value<double?>(peakKey) ?? double.NaN).DefaultIfEmpty(double.NaN).Max(),
                epochs.Count > 0 ? epochs.Last!.Value<double?>(stepKey) ?? double.NaN : double.NaN,
                evalPath, evalPath is null ? double.NaN : EvalValue(evalPath, task, metric));
        }
        catch (Exception e) when (e is InvalidCastException or FormatException or ArgumentException or NullReferenceException)
        {
            throw new InvalidDataException($"{path}: malformed epoch entry ({e.Message}).");
        }
    }

    /// <summary>
    /// The metric in percent from an evaluation json: <c>eval detect --json</c> (COCO's 12 stats and VOC_AP50 /
    /// VOC07_AP50 as fractions), <c>eval segment --json</c> (mIoU, aAcc, mAcc in %), <c>eval classify --json</c>
    /// (accuracy in %).
    /// </summary>
    private static double EvalValue(string path, string task, string metric)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such file (--eval names a json that eval {task} --json wrote into each run folder).", path);
        JObject doc;
        try
        {
            doc = JObject.Parse(File.ReadAllText(path));
        }
        catch (JsonReaderException e)
        {
            throw new InvalidDataException($"{path}: not valid json ({e.Message}).");
        }
        (string key, double scale) = (task, metric) switch
        {
            ("detect", "voc_ap50") => ("VOC_AP50", 100.0),
            ("detect", "voc07_ap50") => ("VOC07_AP50", 100.0),
            ("detect", _) => (metric, 100.0),
            ("classify", _) => ("accuracy", 1.0),
            _ => (metric, 1.0),
        };
        var token = doc[key];
        if (token is null)
            throw new InvalidDataException($"{path}: no '{key}' value for {metric} (is it the json of eval {task}{(key.StartsWith("VOC", StringComparison.Ordinal) ? " on VOC data" : "")}?).");
        if (token.Type == JTokenType.Null) return double.NaN;
        if (token.Type is not (JTokenType.Float or JTokenType.Integer))
            throw new InvalidDataException($"{path}: '{key}' is not a number.");
        double v = token.Value<double>();
        // pycocotools reports −1 where no ground truth falls in the area range: not a value.
        return task == "detect" && v < 0 ? double.NaN : v * scale;
    }

    /// <summary>The metric of one epoch in percent (NaN when the epoch was not evaluated).</summary>
    private static double Value(JObject epoch, string task, string metric)
    {
        double? v = (task, metric) switch
        {
            ("classify", _) => epoch.Value<double?>("TestAccuracy"),
            ("segment", _) => epoch.Value<double?>(metric),
            ("detect", "voc_ap50") => epoch.Value<double?>("VocAp50") * 100,
            ("detect", "voc07_ap50") => epoch.Value<double?>("VocAp50Voc07") * 100,
            // pycocotools reports −1 where no ground truth falls in the area range: not a value.
            ("detect", _) => epoch["Coco"]?.Value<double?>(metric) is double c && c >= 0 ? c * 100 : null,
            _ => null,
        };
        return v ?? double.NaN;
    }

    /// <summary>Throws unless every run is of one task (the message names each run's task).</summary>
    public static void CheckOneTask(IReadOnlyList<RunSummary> runs)
    {
        if (runs.Select(r => r.Task).Distinct().Count() > 1)
            throw new ArgumentException($"the runs are of different tasks ({string.Join(", ", runs.Select(r => $"{r.Name}: {r.Task}"))}); report one task at a time.");
    }

    /// <summary>Groups runs by their settings apart from the seed; e2e differences where there is exactly one e2e group.</summary>
    public static IReadOnlyList<RunGroup> Group(IReadOnlyList<RunSummary> runs)
    {
        CheckOneTask(runs);
        static string Key(RunSummary r) => string.Join("\n", r.Settings.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value));
        var sets = runs.GroupBy(Key).Select(g => g.OrderBy(r => r.Seed).ThenBy(r => r.Name, StringComparer.Ordinal).ToList()).ToList();
        // A label names method and K and the settings that tell the group from the other groups of that method and K.
        string Label(RunSummary r)
        {
            var peers = sets.Where(s => s[0].Method == r.Method && s[0].K == r.K).ToList();
            var differing = peers.SelectMany(s => s[0].Settings.Keys).Distinct()
                .Where(k => peers.Select(s => s[0].Settings.GetValueOrDefault(k, "–")).Distinct().Count() > 1).OrderBy(k => k, StringComparer.Ordinal);
            return $"{r.Method} K={r.K}" + string.Concat(differing.Select(k => $" {k}={r.Settings.GetValueOrDefault(k, "–")}"));
        }
        var e2e = sets.Where(s => s[0].Method == "e2e").ToList();
        var reference = e2e.Count == 1 ? e2e[0] : null;
        var groups = new List<RunGroup>();
        foreach (var set in sets)
        {
            var finals = set.Select(r => r.Final).ToList();
            double mean = finals.Average();
            double std = finals.Count > 1 ? Math.Sqrt(finals.Sum(v => (v - mean) * (v - mean)) / (finals.Count - 1)) : double.NaN;
            double? delta = null;
            (double, double, int)? paired = null;
            if (reference is not null && !ReferenceEquals(set, reference))
            {
                delta = mean - reference.Select(r => r.Final).Average();
                var diffs = set.Join(reference, r => r.Seed, r => r.Seed, (a, b) => a.Final - b.Final).ToList();
                if (diffs.Count > 0)
                {
                    double m = diffs.Average();
                    paired = (m, diffs.Count > 1 ? Math.Sqrt(diffs.Sum(d => (d - m) * (d - m)) / (diffs.Count - 1)) : double.NaN, diffs.Count);
                }
            }
            groups.Add(new RunGroup(Label(set[0]), set, mean, std, delta, paired));
        }
        return groups;
    }

    /// <summary>Draws every run's curve (metric against epoch) to a PNG.</summary>
    public static void Plot(IReadOnlyList<RunSummary> runs, string metric, string path, int width = 900, int height = 560)
    {
        var plot = new ScottPlot.Plot();
        foreach (var run in runs)
        {
            var points = run.Curve.Select((v, i) => (X: i + 1.0, Y: v)).Where(p => double.IsFinite(p.Y)).ToArray();
            if (points.Length == 0) continue;
            var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
            line.LegendText = $"{run.Name} ({run.Method}, seed {run.Seed})";
            line.MarkerSize = 5;
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Title($"{runs[0].Task}: {metric} per epoch");
        plot.XLabel("epoch");
        plot.YLabel(metric + " (%)");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        string tmp = path + ".tmp.png";
        plot.SavePng(tmp, width, height);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The report as json: the metric, every run and every group.</summary>
    public static JObject ToJson(string metric, IReadOnlyList<RunGroup> groups) => new()
    {
        ["task"] = groups.Count > 0 ? groups[0].Runs[0].Task : null,
        ["metric"] = metric,
        ["groups"] = new JArray(groups.Select(g => new JObject
        {
            ["label"] = g.Label,
            ["runs"] = new JArray(g.Runs.Select(r => new JObject
            {
                ["name"] = r.Name, ["path"] = r.Path, ["method"] = r.Method, ["k"] = r.K, ["seed"] = r.Seed,
                ["epochs"] = r.Epochs, ["epochs_planned"] = r.EpochsPlanned, ["incomplete"] = r.Incomplete,
                ["final"] = Json(r.Final), ["best"] = Json(r.Best), ["curve"] = new JArray(r.Curve.Select(Json)),
                ["peak_rss_mib"] = Json(r.PeakRssMiB), ["step_ms_median"] = Json(r.StepMsMedian), ["final_from"] = r.EvalPath ?? "last epoch",
            })),
            ["n"] = g.Runs.Count,
            ["mean"] = Json(g.Mean), ["std"] = Json(g.Std), ["min"] = Json(g.Min), ["max"] = Json(g.Max),
            ["delta_to_e2e"] = g.DeltaToE2e is double d ? d : null,
            ["paired_delta_to_e2e"] = g.PairedDelta is var (m, s, n) ? new JObject { ["mean"] = m, ["std"] = Json(s), ["pairs"] = n } : null,
        })),
    };

    private static JToken Json(double v) => double.IsFinite(v) ? v : JValue.CreateNull();
}
