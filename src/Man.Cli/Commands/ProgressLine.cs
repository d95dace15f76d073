using System.Globalization;
using Man.Vision.Classification.Training;

namespace Man.Cli.Commands;

/// <summary>
/// A live progress line (images/s, ETA, loss per block, s): rewritten in place on a terminal, printed every
/// few seconds when the output is a file or a CI log.
/// </summary>
public sealed class ProgressLine : IProgress<TrainProgress>
{
    private readonly bool interactive = !Console.IsOutputRedirected;
    private DateTime lastPrint = DateTime.MinValue;
    private int lastEpoch = -1;

    /// <inheritdoc/>
    public void Report(TrainProgress p)
    {
        bool epochEnd = p.Batch == p.Batches;
        var now = DateTime.UtcNow;
        if (!epochEnd && (now - lastPrint).TotalSeconds < (interactive ? 0.2 : 5.0) && p.Epoch == lastEpoch) return;
        lastPrint = now;
        lastEpoch = p.Epoch;
        string line = Format(p);
        if (interactive)
        {
            int width = Math.Max(40, Console.WindowWidth - 1);
            Console.Write("\r" + (line.Length > width ? line[..width] : line.PadRight(width)));
            if (epochEnd) Console.WriteLine();
        }
        else Console.WriteLine(line);
    }

    /// <summary>Losses per block to 3 decimals; – for a block without a loss (NaN: an early block with nothing to train).</summary>
    public static string BlockLosses(IEnumerable<double> losses) =>
        string.Join(" ", losses.Select(l => double.IsNaN(l) ? "–" : l.ToString("0.000", CultureInfo.InvariantCulture)));

    /// <summary>The text of a progress report.</summary>
    public static string Format(TrainProgress p)
    {
        var inv = CultureInfo.InvariantCulture;
        string losses = BlockLosses(p.BlockLosses);
        string s = p.S.Length == 0 || p.S.All(double.IsNaN) ? "" : " s=" + string.Join(",", p.S.Select(v => v.ToString("0.000", inv)));
        string eta = p.Eta.TotalHours >= 1 ? p.Eta.ToString(@"h\:mm\:ss", inv) : p.Eta.ToString(@"m\:ss", inv);
        return string.Create(inv,
            $"epoch {p.Epoch + 1}/{p.Epochs} {p.Batch}/{p.Batches} | {p.ImagesPerSecond:0.0} img/s | ETA {eta} | lr {p.LearningRate:0.0000} | loss/block {losses}{s}");
    }
}
