namespace Man.Vision.Data.Segmentation;

/// <summary>
/// The raw samples of a PNG as stored, without any colour conversion: palette indices for a palette PNG,
/// grey values for a greyscale PNG, RGB(A) bytes for a true-colour one. Read by <see cref="PngCodec"/>.
/// </summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="ColorType">PNG colour type: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA.</param>
/// <param name="BitDepth">Bits per sample as stored (1, 2, 4, 8 or 16).</param>
/// <param name="Channels">Samples per pixel in <see cref="Samples"/> (1 for grey and palette, 2, 3 or 4).</param>
/// <param name="Samples">Row-major samples, <c>Height·Width·Channels</c> values (16-bit samples kept whole).</param>
/// <param name="Palette">The PLTE entries as RGB triples, empty when the image has none.</param>
public sealed record PngLabelImage(int Width, int Height, int ColorType, int BitDepth, int Channels, ushort[] Samples, byte[] Palette)
{
    /// <summary>True for a palette (colour type 3) image, whose samples are palette indices.</summary>
    public bool IsPalette => ColorType == 3;

    /// <summary>True when every pixel is one sample (grey or palette index).</summary>
    public bool IsSingleChannel => Channels == 1;
}
