namespace Man.Vision.Data.Diagnostics;

/// <summary>Whether a <see cref="BadInputLog"/> entry was repaired (the sample is used) or skipped (left out).</summary>
public enum BadInputAction
{
    /// <summary>A documented repair was applied and the input is used.</summary>
    Repaired = 0,

    /// <summary>The input (a sample or an annotation) was left out under <see cref="OnBad.Skip"/>.</summary>
    Skipped = 1,
}
