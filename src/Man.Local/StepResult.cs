namespace Man.Local;

/// <summary>What one training step reports.</summary>
/// <param name="BlockLosses">The loss of each block (the last block's is the sum of its named losses); NaN for an early block whose units are all frozen (it has no auxiliary loss).</param>
/// <param name="NamedLosses">The main head's named losses (e.g. loss_classifier), as numbers.</param>
/// <param name="S">MAN++'s fusion scalar s of each early block (1 for MAN; empty for other methods).</param>
public sealed record StepResult(double[] BlockLosses, IReadOnlyDictionary<string, double> NamedLosses, double[] S)
{
    /// <summary>The last block's (the task's real) loss.</summary>
    public double MainLoss => BlockLosses[^1];
}
