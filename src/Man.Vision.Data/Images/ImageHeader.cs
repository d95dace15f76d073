namespace Man.Vision.Data.Images;

/// <summary>What an encoded image is, read from its header without decoding the pixels.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Format">The format sniffed from the bytes.</param>
/// <param name="ColorModel">How the colours are stored.</param>
/// <param name="HasAlpha">True when the image has an alpha channel (or palette transparency).</param>
/// <param name="ExtensionMismatch">True when the file name's extension names another format than the bytes (e.g. a png saved as <c>.jpg</c>).</param>
public sealed record ImageHeader(int Width, int Height, ImageFormat Format, ImageColorModel ColorModel, bool HasAlpha, bool ExtensionMismatch);
