namespace Man.Vision.Detection.Models;

/// <summary>The size of an image in pixels.</summary>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
public readonly record struct ImageSize(long Height, long Width)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Height}×{Width}";
}
