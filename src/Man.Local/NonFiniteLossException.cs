namespace Man.Local;

/// <summary>A loss became NaN or infinite; training stops without applying that step.</summary>
public sealed class NonFiniteLossException : Exception
{
    /// <summary>The training step (0-based, counted over the whole run) at which it happened.</summary>
    public long Step { get; }

    /// <summary>The block (0-based) whose loss was not finite.</summary>
    public int Block { get; }

    /// <summary>The name of the loss.</summary>
    public string LossName { get; }

    /// <summary>Creates the exception.</summary>
    public NonFiniteLossException(long step, int block, string lossName, double value)
        : base($"Loss '{lossName}' of block {block} is {value} at step {step}; the step was not applied. " +
               "Lower the learning rate, check the data of this batch, or resume from the last checkpoint.")
    {
        Step = step;
        Block = block;
        LossName = lossName;
    }
}
