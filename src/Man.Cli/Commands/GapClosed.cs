namespace Man.Cli.Commands;

/// <summary>
/// The share of the greedy–e2e accuracy gap that a method closes, as the MAN papers report it:
/// (error_greedy − error_method) / (error_greedy − error_e2e). 1 means the method matches e2e, 0 that it is no
/// better than greedy; above 1 it beats e2e.
/// </summary>
public static class GapClosed
{
    /// <summary>
    /// The share closed, or null when greedy is not behind e2e (no gap to close: the schedule is too short to tell).
    /// </summary>
    /// <param name="e2eError">Test error of end-to-end training, in %.</param>
    /// <param name="greedyError">Test error of greedy (DGL-style) local learning, in %.</param>
    /// <param name="methodError">Test error of the method, in %.</param>
    public static double? Share(double e2eError, double greedyError, double methodError)
    {
        foreach (var v in new[] { e2eError, greedyError, methodError })
            if (!double.IsFinite(v)) throw new ArgumentException($"Test errors must be finite numbers (got {v}).");
        double gap = greedyError - e2eError;
        return gap > 0 ? (greedyError - methodError) / gap : null;
    }
}
