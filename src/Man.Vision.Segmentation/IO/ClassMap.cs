namespace Man.Vision.Segmentation.IO;

/// <summary>A single-channel 8-bit label (class) map, as stored in a label PNG: <c>Pixels[y·Width + x]</c> is the class of pixel (x, y).</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Pixels">Row-major values, Width·Height of them.</param>
public sealed record ClassMap(int Width, int Height, byte[] Pixels)
{
    /// <summary>Validated pixel buffer.</summary>
    public byte[] Pixels { get; } = Pixels.LongLength == (long)Width * Height ? Pixels
        : throw new ArgumentException($"A {Width}×{Height} label map needs {(long)Width * Height} pixels; got {Pixels.LongLength}.", nameof(Pixels));
}
