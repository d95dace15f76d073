namespace Man.Vision.Data.Classification;

/// <summary>One image of a classification data set: 8-bit pixels in HWC order with 1 or 3 channels, and its label.</summary>
/// <param name="Pixels"><c>Height·Width·Channels</c> bytes, row-major, channels last.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Channels">1 (grayscale) or 3 (RGB).</param>
/// <param name="Label">The class index, 0..classes-1.</param>
/// <param name="Source">Where the image came from (a file, or <c>archive!entry</c>, or <c>file#index</c>).</param>
public sealed record LabeledImage(byte[] Pixels, int Width, int Height, int Channels, int Label, string Source);
