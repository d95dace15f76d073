namespace Man.Vision.Backbones.Weights;

/// <summary>Weights that do not fit a model under strict loading; <see cref="Report"/> lists every problem.</summary>
public sealed class WeightLoadException : Exception
{
    /// <summary>Creates the exception from the report of the failed load.</summary>
    public WeightLoadException(string message, LoadReport report) : base(message)
    {
        Report = report;
    }

    /// <summary>What matched and what did not (nothing was copied into the model).</summary>
    public LoadReport Report { get; }
}
