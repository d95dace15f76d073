namespace Man.Vision.Data.Synthetic;

/// <summary>How <see cref="SyntheticDataWriter"/> renders images.</summary>
/// <param name="Width">Image width (default 256).</param>
/// <param name="Height">Image height (default 256).</param>
/// <param name="MinObjects">Fewest objects per image.</param>
/// <param name="MaxObjects">Most objects per image.</param>
/// <param name="MinSize">Smallest object extent in pixels (sizes are log-uniform between the bounds).</param>
/// <param name="MaxSize">Largest object extent in pixels.</param>
/// <param name="NoiseSigma">Standard deviation of the Gaussian pixel noise, in 0..255 units.</param>
/// <param name="MinVisible">The fraction of an object that must stay visible under later (overlapping) objects.</param>
/// <param name="ValFraction">The share of images in the "val" split (the rest is "train").</param>
/// <param name="NegativeFraction">The share of images without any object (negatives).</param>
public sealed record SyntheticOptions(
    int Width = 256,
    int Height = 256,
    int MinObjects = 1,
    int MaxObjects = 6,
    int MinSize = 16,
    int MaxSize = 120,
    double NoiseSigma = 6,
    double MinVisible = 0.6,
    double ValFraction = 0.2,
    double NegativeFraction = 0.03)
{
    /// <summary>The defaults for a task.</summary>
    public static SyntheticOptions For(SyntheticTask task) => task switch
    {
        SyntheticTask.Segment => new SyntheticOptions(MinObjects: 1, MaxObjects: 4, MinSize: 40, MaxSize: 150, NegativeFraction: 0),
        _ => new SyntheticOptions(),
    };

    /// <summary>Throws when a value is out of range.</summary>
    /// <exception cref="ArgumentException">The message names the field and the allowed range.</exception>
    public void Validate()
    {
        if (Width is < 32 or > 4096 || Height is < 32 or > 4096) throw new ArgumentException($"Synthetic image size must lie in 32..4096, got {Width}x{Height}.");
        if (MinObjects < 0 || MaxObjects < MinObjects || MaxObjects > 50) throw new ArgumentException($"Object counts must satisfy 0 <= min <= max <= 50, got {MinObjects}..{MaxObjects}.");
        if (MinSize < 6 || MaxSize < MinSize || MaxSize > Math.Min(Width, Height)) throw new ArgumentException($"Object sizes must satisfy 6 <= min <= max <= the image side, got {MinSize}..{MaxSize}.");
        if (NoiseSigma is < 0 or > 100) throw new ArgumentException($"NoiseSigma must lie in 0..100, got {NoiseSigma}.");
        if (MinVisible is <= 0 or > 1) throw new ArgumentException($"MinVisible must lie in (0, 1], got {MinVisible}.");
        if (ValFraction is < 0 or >= 1) throw new ArgumentException($"ValFraction must lie in [0, 1), got {ValFraction}.");
        if (NegativeFraction is < 0 or >= 1) throw new ArgumentException($"NegativeFraction must lie in [0, 1), got {NegativeFraction}.");
    }
}
