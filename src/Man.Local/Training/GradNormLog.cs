namespace Man.Local.Training;

/// <summary>
/// One epoch's record of each local block's gradient norm before clipping (<see cref="LocalTrainer{TTarget}.LastGradNorms"/>)
/// for the epoch metrics of a run with <see cref="TrainerOptions.MaxGradNorm"/>; without clipping it records nothing and
/// reports null.
/// </summary>
public sealed class GradNormLog
{
    private readonly List<double[]> steps = [];

    /// <summary>Creates an empty log.</summary>
    /// <param name="blocks">Number of local blocks K.</param>
    /// <param name="maxNorm">The clipping bound, or null when the run does not clip.</param>
    public GradNormLog(int blocks, double? maxNorm)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blocks, 1);
        Blocks = blocks;
        MaxNorm = maxNorm;
    }

    /// <summary>Number of local blocks.</summary>
    public int Blocks { get; }

    /// <summary>The clipping bound (null: the run does not clip).</summary>
    public double? MaxNorm { get; }

    /// <summary>Steps recorded.</summary>
    public int Steps => steps.Count;

    /// <summary>Records one step's norms (one per block; NaN for a block without gradients). Ignored without clipping.</summary>
    public void Add(IReadOnlyList<double> norms)
    {
        if (MaxNorm is null) return;
        if (norms.Count != Blocks) throw new ArgumentException($"Expected {Blocks} block norms, got {norms.Count}.", nameof(norms));
        steps.Add(norms.ToArray());
    }

    /// <summary>Each block's median norm over the recorded steps (NaN for a block that never had gradients); null without clipping.</summary>
    public double[]? MedianPerBlock() => MaxNorm is null ? null
        : Enumerable.Range(0, Blocks).Select(k => RunStatistics.Median(steps.Select(s => s[k]).Where(double.IsFinite))).ToArray();

    /// <summary>How many recorded steps clipped each block (norm above the bound); null without clipping.</summary>
    public int[]? ClippedStepsPerBlock() => MaxNorm is not double max ? null
        : Enumerable.Range(0, Blocks).Select(k => steps.Count(s => s[k] > max)).ToArray();
}

/// <summary>Small statistics the runners report.</summary>
public static class RunStatistics
{
    /// <summary>The median (the mean of the two middle values for an even count); NaN for no values.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        if (sorted.Count == 0) return double.NaN;
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : 0.5 * (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]);
    }
}
