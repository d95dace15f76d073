using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Man.Local;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Spectre.Console;

namespace Man.Cli.Commands;

/// <summary>
/// <c>man-vision demo</c>: the main job on the embedded synthetic data, no download: the same CIFAR-style
/// ResNet trained end-to-end, greedily and with MAN++ on one short schedule, each in a fresh process, then
/// accuracy, peak memory and step time side by side.
/// </summary>
public static class DemoCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var methods = new Option<string>("--methods") { DefaultValueFactory = _ => "e2e,greedy,manpp" };
        var arch = new Option<string>("--arch") { DefaultValueFactory = _ => "resnet32" };
        var k = new Option<int>("--k") { Description = "K of the local methods.", DefaultValueFactory = _ => 4 };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 4 };
        var data = new Option<string>("--data") { DefaultValueFactory = _ => "synth" };
        var outDir = new Option<string>("--out") { DefaultValueFactory = _ => Path.Combine("runs", "demo") };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 128 };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 0.1 };
        var trainSize = new Option<int>("--train-size") { DefaultValueFactory = _ => 0 };
        var testSize = new Option<int>("--test-size") { DefaultValueFactory = _ => 0 };
        var split = new Option<string>("--split")
        { Description = "Split of the local methods: balanced (by activation memory) | uniform (by unit count, the paper's CIFAR split) | block starts, e.g. 0,4,9.", DefaultValueFactory = _ => "balanced" };
        var threads = new Option<int>("--threads") { Description = "Torch intra-op threads of each run (0 = torch's default).", DefaultValueFactory = _ => 0 };
        var cmd = new Command("demo", "Compare e2e, greedy and MAN++ training on the embedded synthetic data: accuracy, peak memory, step time.")
        { methods, arch, k, epochs, data, outDir, batch, lr, trainSize, testSize, split, threads };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var ms = r.GetValue(methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(LocalMethods.Parse).ToList();
            string root = r.GetValue(outDir)!;
            var rows = new List<JObject>();
            foreach (var m in ms)
            {
                int kk = m == LocalMethod.E2E ? 1 : r.GetValue(k);
                string run = Path.Combine(root, $"{m.Name()}-k{kk}");
                if (Directory.Exists(run)) Directory.Delete(run, recursive: true);
                AnsiConsole.MarkupLine($"[bold]{m.Name()}[/] K={kk} → {Markup.Escape(run)}");
                var args = new List<string>
                {
                    "train", "classify", "--data", r.GetValue(data)!, "--arch", r.GetValue(arch)!, "--method", m.Name(), "--k", kk.ToString(CultureInfo.InvariantCulture),
                    "--epochs", r.GetValue(epochs).ToString(CultureInfo.InvariantCulture), "--batch-size", r.GetValue(batch).ToString(CultureInfo.InvariantCulture),
                    "--lr", r.GetValue(lr).ToString(CultureInfo.InvariantCulture), "--out", run, "--seed", "0",
                    "--train-size", r.GetValue(trainSize).ToString(CultureInfo.InvariantCulture),
                    "--test-size", r.GetValue(testSize).ToString(CultureInfo.InvariantCulture),
                    "--split", r.GetValue(split)!, "--threads", r.GetValue(threads).ToString(CultureInfo.InvariantCulture),
                };
                int code = BenchHarness.RunChild(args);
                if (code != 0) throw new InvalidOperationException($"the {m.Name()} run failed with exit code {code}.");
                var metrics = JObject.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
                rows.Add(metrics);
            }
            var inv = CultureInfo.InvariantCulture;
            var table = new Table().AddColumns("method", "K", "blocks (units)", "test acc %", "test error %", "peak RSS MiB", "median step ms");
            var summary = new JArray();
            foreach (var row in rows)
            {
                var last = (JObject)row["epochs"]!.Last!;
                double acc = last.Value<double?>("TestAccuracy") ?? double.NaN;
                double peak = row["epochs"]!.Max(e => e.Value<double>("PeakRssMiB"));
                double step = last.Value<double>("StepTimeMsMedian");
                table.AddRow(row.Value<string>("method")!, row.Value<int>("k").ToString(inv), Markup.Escape(row.Value<string>("split")!),
                    acc.ToString("0.00", inv), (100 - acc).ToString("0.00", inv), peak.ToString("0", inv), step.ToString("0", inv));
                summary.Add(new JObject { ["method"] = row["method"], ["k"] = row["k"], ["test_accuracy"] = acc, ["peak_rss_mib"] = peak, ["step_ms"] = step });
            }
            AnsiConsole.Write(table);
            var gaps = new JObject();
            double Error(string method) => 100 - summary.First(s => s.Value<string>("method") == method).Value<double>("test_accuracy");
            var names = summary.Select(s => s.Value<string>("method")!).ToList();
            if (names.Contains("e2e") && names.Contains("greedy"))
                foreach (var name in names.Where(n => n is not "e2e" and not "greedy"))
                {
                    double? share = GapClosed.Share(Error("e2e"), Error("greedy"), Error(name));
                    gaps[name] = share;
                    AnsiConsole.MarkupLine(share is double g
                        ? $"{name} closes {g * 100:0.0} % of the greedy–e2e gap ({Error("greedy"):0.00} → {Error(name):0.00} % error; e2e {Error("e2e"):0.00} %)."
                        : $"greedy is not behind e2e on this schedule ({Error("greedy"):0.00} vs {Error("e2e"):0.00} % error): no gap for {name} to close.");
                }
            string json = Path.Combine(root, "demo.json");
            File.WriteAllText(json, new JObject { ["runs"] = summary, ["gap_closed"] = gaps }.ToString(Formatting.Indented));
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(json)}");
            return 0;
        }));
        return cmd;
    }
}
