namespace Man.Vision.Data.Diagnostics;

/// <summary>What a reader does with an input it cannot use as it is (<c>--on-bad fail|skip</c>).</summary>
/// <remarks>
/// Documented repairs (a png saved as <c>.jpg</c>, an RGBA image converted to RGB, a VOC size of 0 taken
/// from the image...) are applied under both policies and counted in a <see cref="BadInputLog"/>; the policy
/// only decides what happens to inputs that cannot be repaired.
/// </remarks>
public enum OnBad
{
    /// <summary>Throw a <see cref="BadInputException"/> naming the file and the problem (the default).</summary>
    Fail = 0,

    /// <summary>Leave the sample (or annotation) out and count the skip, with the file name, in the log.</summary>
    Skip = 1,
}
