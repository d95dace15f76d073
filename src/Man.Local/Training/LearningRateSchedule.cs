namespace Man.Local.Training;

/// <summary>The shape of a learning-rate schedule.</summary>
public enum ScheduleKind
{
    /// <summary>The base rate throughout (after warm-up).</summary>
    Constant,

    /// <summary>Cosine decay from the base rate to <see cref="LearningRateSchedule.MinLr"/>.</summary>
    Cosine,

    /// <summary>Polynomial decay lr·(1 − t/T)^power (segmentation's "poly").</summary>
    Poly,
}

/// <summary>
/// A learning rate as a pure function of the step, so that resuming needs only the step count.
/// Linear warm-up from 0 over <see cref="WarmupSteps"/> steps, then the chosen decay over the remaining steps.
/// </summary>
public sealed record LearningRateSchedule
{
    /// <summary>The schedule's shape.</summary>
    public ScheduleKind Kind { get; init; } = ScheduleKind.Cosine;

    /// <summary>The peak (base) learning rate.</summary>
    public double BaseLr { get; init; } = 0.1;

    /// <summary>Total number of optimizer steps of the run.</summary>
    public long TotalSteps { get; init; } = 1;

    /// <summary>Linear warm-up steps.</summary>
    public long WarmupSteps { get; init; }

    /// <summary>Exponent of <see cref="ScheduleKind.Poly"/>.</summary>
    public double Power { get; init; } = 0.9;

    /// <summary>The rate at the end of a cosine or poly schedule.</summary>
    public double MinLr { get; init; }

    /// <summary>Checks the values; throws with a message naming the bad one.</summary>
    public void Validate()
    {
        if (!(BaseLr > 0) || double.IsInfinity(BaseLr)) throw new ArgumentException($"The learning rate must be positive (got {BaseLr}).");
        if (TotalSteps < 1) throw new ArgumentException($"TotalSteps must be at least 1 (got {TotalSteps}).");
        if (WarmupSteps < 0 || WarmupSteps > TotalSteps)
            throw new ArgumentException($"WarmupSteps must lie in [0, TotalSteps={TotalSteps}] (got {WarmupSteps}).");
        if (MinLr < 0 || MinLr > BaseLr) throw new ArgumentException($"MinLr must lie in [0, {BaseLr}] (got {MinLr}).");
    }

    /// <summary>The learning rate at <paramref name="step"/> (0-based).</summary>
    public double At(long step)
    {
        if (WarmupSteps > 0 && step < WarmupSteps) return BaseLr * (step + 1) / WarmupSteps;
        long span = Math.Max(1, TotalSteps - WarmupSteps);
        double t = Math.Clamp((double)(step - WarmupSteps) / span, 0, 1);
        return Kind switch
        {
            ScheduleKind.Constant => BaseLr,
            ScheduleKind.Cosine => MinLr + (BaseLr - MinLr) * 0.5 * (1 + Math.Cos(Math.PI * t)),
            ScheduleKind.Poly => MinLr + (BaseLr - MinLr) * Math.Pow(1 - t, Power),
            _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
        };
    }
}
