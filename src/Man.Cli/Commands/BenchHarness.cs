using System.Diagnostics;
using Man.Runtime;
using Newtonsoft.Json;

namespace Man.Cli.Commands;

/// <summary>What <see cref="BenchHarness.MeasureSteps"/> measured in this process.</summary>
/// <param name="FloorMiB">
/// RSS before the first step (the model built, no gradients or optimizer state yet), after a full collection and a
/// heap trim. Not a lower bound of the step readings: memory the runtime or libtorch releases later (threads' arenas,
/// caches) can take RSS below it.
/// </param>
/// <param name="PeakMiB">Peak RSS of the process.</param>
/// <param name="StepMsMedian">Median time of the timed steps.</param>
/// <param name="BlockPeaksMiB">
/// Peak RSS while each local block ran (forward, local loss, backward) over the timed steps, then the optimizer
/// step's; measured by resetting VmHWM between blocks (Linux), null where that is not possible.
/// </param>
public sealed record StepMeasurement(double FloorMiB, double PeakMiB, double StepMsMedian, double[]? BlockPeaksMiB);

/// <summary>
/// The parts every fresh-process benchmark shares: running this CLI again as a child that prints one json line, and
/// timing training steps with peak-memory readings (overall and per local block).
/// </summary>
public static class BenchHarness
{
    /// <summary>
    /// Runs this program again with <paramref name="args"/> (its output captured) and returns the last json line of its
    /// standard output as <typeparamref name="T"/>, or null with <paramref name="error"/> set when it failed.
    /// </summary>
    public static T? RunJsonChild<T>(IEnumerable<string> args, out string error) where T : class
    {
        var psi = ChildStart(args);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        using var p = Process.Start(psi)!;
        var stderrTask = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        string stderr = stderrTask.Result;
        var line = stdout.Split('\n').LastOrDefault(l => l.StartsWith('{'));
        if (p.ExitCode != 0 || line is null)
        {
            error = $"exit {p.ExitCode}: {stderr.Trim()}";
            return null;
        }
        error = "";
        return JsonConvert.DeserializeObject<T>(line);
    }

    /// <summary>
    /// Runs this program again with <paramref name="args"/> (and <paramref name="environment"/> added to its
    /// environment), its output going to this console; returns the exit code.
    /// </summary>
    public static int RunChild(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = ChildStart(args);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        return p.ExitCode;
    }

    /// <summary>
    /// Runs this program again like <see cref="RunChild"/>, its standard output and error appended to
    /// <paramref name="logPath"/> instead of this console (for children that run side by side); returns the exit code.
    /// </summary>
    public static int RunChildLogged(IEnumerable<string> args, string logPath, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = ChildStart(args);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logPath))!);
        using var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var gate = new object();
        void Write(string? line)
        {
            if (line is null) return;
            lock (gate) log.WriteLine(line);
        }
        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => Write(e.Data);
        p.ErrorDataReceived += (_, e) => Write(e.Data);
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        p.WaitForExit(); // also waits for both redirected streams to end
        return p.ExitCode;
    }

    private static ProcessStartInfo ChildStart(IEnumerable<string> args)
    {
        string exe = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false };
        if (exe.EndsWith("dotnet", StringComparison.Ordinal) && System.Reflection.Assembly.GetEntryAssembly()?.Location is string entry)
            psi.ArgumentList.Add(entry);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>
    /// Runs <paramref name="step"/> once to warm up and <paramref name="steps"/> more times timed. With
    /// <paramref name="subscribeBlockEnd"/> (given the callback to raise after each block's backward, e.g. through
    /// <c>LocalLearner.AfterBlockBackward</c>), the peak RSS of every one of the <paramref name="blocks"/> blocks and of
    /// the optimizer step is read separately.
    /// </summary>
    public static StepMeasurement MeasureSteps(Action step, int steps, int blocks, Action<Action<int>>? subscribeBlockEnd)
    {
        if (steps < 1) throw new ArgumentException($"--steps must be at least 1 (got {steps}).");
        // The floor is read with garbage collected, its freed regions decommitted and glibc's free heap memory returned,
        // so that memory only waiting to be released (model building, the convolution check) is not counted in it.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        Memory.TrimNow();
        double floor = Memory.CurrentRssMiB();
        var times = new List<double>();
        var blockPeaks = new double[blocks + 1];
        double overall = 0;
        bool timed = false, perBlock = subscribeBlockEnd is not null && Memory.ResetPeak();
        void Record(int slot)
        {
            double peak = Memory.PeakRssMiB();
            overall = Math.Max(overall, peak);
            if (timed) blockPeaks[slot] = Math.Max(blockPeaks[slot], peak);
            Memory.ResetPeak();
        }
        if (perBlock) subscribeBlockEnd!(Record);
        for (int i = 0; i < steps + 1; i++)
        {
            timed = i > 0;
            var t0 = Stopwatch.GetTimestamp();
            step();
            if (perBlock) Record(blocks);
            if (i > 0) times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        times.Sort();
        double median = times.Count % 2 == 1 ? times[times.Count / 2] : 0.5 * (times[times.Count / 2 - 1] + times[times.Count / 2]);
        double peakAll = perBlock ? Math.Max(overall, Memory.PeakRssMiB()) : Memory.PeakRssMiB();
        return new StepMeasurement(floor, peakAll, median, perBlock ? blockPeaks.Select(v => Math.Round(v, 1)).ToArray() : null);
    }
}
