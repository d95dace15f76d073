using TorchSharp;

namespace Man.Vision.Segmentation.Training;

/// <summary>
/// The poly learning-rate schedule of DeepLab / torchvision's segmentation reference / mmsegmentation's <c>PolyLR</c>,
/// with an optional linear warm-up, for any TorchSharp optimizer (it sets the learning rate of every parameter group):
/// <code>
/// factor(t) = w + (1 − w)·t/W                       for t &lt; W  (warm-up from w = WarmupFactor)
/// factor(t) = (1 − (t − W)/(T − W))^power            for W ≤ t ≤ T, and 0 after T
/// lr_g(t)   = min_lr + (base_lr_g − min_lr)·factor(t)
/// </code>
/// With W = 0 and min_lr = 0 this is <c>lr·(1 − t/T)^0.9</c>.
/// </summary>
/// <remarks>
/// Like a PyTorch scheduler: the constructor applies iteration 0; call <see cref="Step"/> after each
/// <c>optimizer.step()</c>. The base rate of each group is the group's learning rate when the schedule is created.
/// </remarks>
public sealed class PolyLearningRate
{
    private readonly torch.optim.ILearningRateController[] groups;
    private readonly double[] baseRates;

    /// <summary>Creates the schedule and sets the rates of iteration 0.</summary>
    /// <param name="optimizer">The optimizer whose parameter groups are driven.</param>
    /// <param name="maxIterations">T, the total number of iterations (optimizer steps).</param>
    /// <param name="power">Exponent of the decay (0.9).</param>
    /// <param name="warmupIterations">W, iterations of linear warm-up (0 for none); must be below T.</param>
    /// <param name="warmupFactor">w, the factor at iteration 0 of the warm-up (torchvision reference: 0.01).</param>
    /// <param name="minLearningRate">Floor the rate decays to (mmsegmentation's <c>eta_min</c>; 0 by default).</param>
    /// <exception cref="ArgumentException">An argument is out of range or the optimizer has no parameter group.</exception>
    public PolyLearningRate(torch.optim.Optimizer optimizer, int maxIterations, double power = 0.9,
        int warmupIterations = 0, double warmupFactor = 0.01, double minLearningRate = 0)
    {
        if (maxIterations <= 0) throw new ArgumentOutOfRangeException(nameof(maxIterations), maxIterations, "The number of iterations must be positive.");
        if (power <= 0 || double.IsNaN(power)) throw new ArgumentOutOfRangeException(nameof(power), power, "The power must be positive.");
        if (warmupIterations < 0 || warmupIterations >= maxIterations)
            throw new ArgumentOutOfRangeException(nameof(warmupIterations), warmupIterations,
                $"Warm-up iterations must be in [0, maxIterations = {maxIterations}).");
        if (warmupFactor is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(warmupFactor), warmupFactor, "The warm-up factor must be in (0, 1].");
        if (minLearningRate < 0) throw new ArgumentOutOfRangeException(nameof(minLearningRate), minLearningRate, "The minimum learning rate must be ≥ 0.");
        groups = optimizer.ParamGroups.ToArray();
        if (groups.Length == 0) throw new ArgumentException("The optimizer has no parameter group.", nameof(optimizer));
        baseRates = groups.Select(g => g.LearningRate).ToArray();
        if (baseRates.Any(r => r < minLearningRate))
            throw new ArgumentException($"A parameter group's learning rate ({baseRates.Min()}) is below the minimum {minLearningRate}.", nameof(minLearningRate));
        MaxIterations = maxIterations;
        Power = power;
        WarmupIterations = warmupIterations;
        WarmupFactor = warmupFactor;
        MinLearningRate = minLearningRate;
        Apply();
    }

    /// <summary>T.</summary>
    public int MaxIterations { get; }

    /// <summary>The decay exponent.</summary>
    public double Power { get; }

    /// <summary>W.</summary>
    public int WarmupIterations { get; }

    /// <summary>w.</summary>
    public double WarmupFactor { get; }

    /// <summary>The floor of the rate.</summary>
    public double MinLearningRate { get; }

    /// <summary>The current iteration t (0 after construction).</summary>
    public int Iteration { get; private set; }

    /// <summary>The learning rates of the parameter groups when the schedule was created.</summary>
    public IReadOnlyList<double> BaseLearningRates => baseRates;

    /// <summary>The learning rates currently set, one per parameter group.</summary>
    public IReadOnlyList<double> CurrentLearningRates => groups.Select(g => g.LearningRate).ToArray();

    /// <summary>The multiplicative factor of iteration <paramref name="iteration"/> (see the class remarks).</summary>
    public double Factor(int iteration)
    {
        if (iteration < 0) throw new ArgumentOutOfRangeException(nameof(iteration), iteration, "The iteration must be ≥ 0.");
        if (iteration < WarmupIterations)
            return WarmupFactor + (1 - WarmupFactor) * iteration / WarmupIterations;
        double progress = Math.Min(1.0, (double)(iteration - WarmupIterations) / (MaxIterations - WarmupIterations));
        return Math.Pow(1 - progress, Power);
    }

    /// <summary>The learning rate of a group with base rate <paramref name="baseRate"/> at <paramref name="iteration"/>.</summary>
    public double LearningRate(double baseRate, int iteration) => MinLearningRate + (baseRate - MinLearningRate) * Factor(iteration);

    /// <summary>Advances to the next iteration and sets its rates.</summary>
    public void Step()
    {
        Iteration++;
        Apply();
    }

    /// <summary>Jumps to <paramref name="iteration"/> (e.g. when resuming) and sets its rates.</summary>
    public void SetIteration(int iteration)
    {
        if (iteration < 0) throw new ArgumentOutOfRangeException(nameof(iteration), iteration, "The iteration must be ≥ 0.");
        Iteration = iteration;
        Apply();
    }

    private void Apply()
    {
        for (int g = 0; g < groups.Length; g++)
            groups[g].LearningRate = LearningRate(baseRates[g], Iteration);
    }
}
