using System.CommandLine;
using System.Globalization;
using Newtonsoft.Json;
using Spectre.Console;

namespace Man.Cli.Commands;

/// <summary>
/// <c>man-vision report RUN…</c>: the runs' metric per epoch and final, grouped over seeds (mean ± sd, difference to
/// e2e paired by seed), as a table, json and a png of the curves.
/// </summary>
public static class ReportCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "Run folders (or their metrics.json) of one task.", Arity = ArgumentArity.OneOrMore };
        var metric = new Option<string?>("--metric")
        {
            Description = "classify: top1 | detect: AP (VOC data: voc_ap50), AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl, voc_ap50, voc07_ap50 | segment: mIoU, aAcc, mAcc.",
        };
        var epoch = new Option<int?>("--epoch") { Description = "Compare after this epoch (1-based) instead of each run's last; every run must have reached it." };
        var plot = new Option<string?>("--plot") { Description = "Draw every run's curve (metric per epoch) to this PNG." };
        var json = new Option<string?>("--json") { Description = "Write the runs, groups and differences here." };
        var eval = new Option<string?>("--eval")
        {
            Description = "Compare the value in this file of each run folder instead of the last epoch's: the json of eval detect|segment|classify --json (e.g. last.ckpt on a held-out set).",
        };
        var cmd = new Command("report", "Compare runs from their metrics.json: final and best metric per run, runs grouped over seeds (mean ± sd), the difference to e2e paired by seed.")
        { runs, metric, epoch, plot, json, eval };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var paths = r.GetValue(runs)!;
            string? evalFile = r.GetValue(eval);
            var first = paths.Select(run => RunReport.Load(run, r.GetValue(metric), r.GetValue(epoch), evalFile)).ToList();
            RunReport.CheckOneTask(first);
            // One metric for every run: --metric, or the first run's task default (VOC AP50 on VOC data, else the task's
            // first); only runs read with another default are read again.
            string name = r.GetValue(metric) ?? first[0].Metric;
            var summaries = first.Select((s, i) => s.Metric == name ? s : RunReport.Load(paths[i], name, r.GetValue(epoch), evalFile)).ToList();
            var groups = RunReport.Group(summaries);
            var inv = CultureInfo.InvariantCulture;
            string F(double v, string fmt = "0.00") => double.IsFinite(v) ? v.ToString(fmt, inv) : "–";

            var perRun = new Table().AddColumns("run", "method", "K", "seed", "epochs", $"{name} per epoch", evalFile is null ? "final" : $"final ({Markup.Escape(evalFile)})", "best", "peak RSS MiB", "step ms");
            foreach (var s in groups.SelectMany(g => g.Runs))
                perRun.AddRow(Markup.Escape(s.Name), s.Method, s.K.ToString(inv), s.Seed.ToString(inv),
                    s.Incomplete ? $"{s.Epochs}/{s.EpochsPlanned}{(s.Stopped ? " (NaN stop)" : "")}" : s.Epochs.ToString(inv),
                    string.Join(", ", s.Curve.Select(v => F(v, "0.0"))), F(s.Final), F(s.Best), F(s.PeakRssMiB, "0"), F(s.StepMsMedian, "0"));
            AnsiConsole.Write(perRun);

            string what = evalFile is null ? name : $"{name} ({Markup.Escape(evalFile)})";
            var table = new Table().AddColumns("configuration", "runs (seeds)", $"{what} mean", "sd", "min – max", "Δ to e2e", "Δ paired by seed (sd, pairs)");
            foreach (var g in groups)
                table.AddRow(Markup.Escape(g.Label), $"{g.Runs.Count} ({string.Join(", ", g.Runs.Select(x => x.Seed.ToString(inv)))})", F(g.Mean), F(g.Std),
                    $"{F(g.Min)} – {F(g.Max)}", g.DeltaToE2e is double d ? d.ToString("+0.00;-0.00;0.00", inv) : "–",
                    g.PairedDelta is var (m, sd, n) ? $"{m.ToString("+0.00;-0.00;0.00", inv)} ({F(sd)}, {n})" : "–");
            AnsiConsole.Write(table);
            if (summaries.Any(s => s.Incomplete))
                AnsiConsole.MarkupLine($"[yellow]note:[/] {Markup.Escape(string.Join(", ", summaries.Where(s => s.Incomplete).Select(s => s.Name)))} ended before the planned epochs; their final value is the last evaluated one.");

            if (r.GetValue(plot) is string png)
            {
                RunReport.Plot(summaries, name, png);
                AnsiConsole.MarkupLine($"wrote {Markup.Escape(png)}");
            }
            if (r.GetValue(json) is string path)
            {
                string tmp = path + ".tmp";
                File.WriteAllText(tmp, RunReport.ToJson(name, groups).ToString(Formatting.Indented));
                File.Move(tmp, path, overwrite: true);
                AnsiConsole.MarkupLine($"wrote {Markup.Escape(path)}");
            }
            return 0;
        }));
        return cmd;
    }
}
