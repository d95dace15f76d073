namespace Man.Vision.Data.Images;

/// <summary>
/// A decoded 8-bit RGB image: <see cref="Pixels"/> holds <c>Height × Width × 3</c> bytes in HWC order
/// (row-major, R G B per pixel), as torchvision's PIL images do before <c>to_tensor</c>.
/// </summary>
public sealed record RgbImage
{
    /// <summary>Creates an image; the pixel buffer is used as it is (not copied).</summary>
    /// <exception cref="ArgumentException">The sizes are not positive or the buffer is not <c>width·height·3</c> bytes long.</exception>
    public RgbImage(int width, int height, byte[] pixels, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (width <= 0 || height <= 0)
            throw new ArgumentException($"Image size must be positive, got {width}x{height}{(source is null ? "" : " for " + source)}.");
        if (pixels.LongLength != (long)width * height * 3)
            throw new ArgumentException($"An RGB image of {width}x{height} needs {(long)width * height * 3} bytes, got {pixels.LongLength}.", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
        Source = source;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>HWC RGB bytes, <c>Height·Width·3</c> of them.</summary>
    public byte[] Pixels { get; }

    /// <summary>The file (or <c>archive!entry</c>) the image was decoded from, if any.</summary>
    public string? Source { get; init; }

    /// <summary>How the image was stored before its conversion to RGB (null when it was not decoded from a file).</summary>
    public ImageHeader? Original { get; init; }

    /// <summary>The red, green and blue value at (x, y).</summary>
    public (byte R, byte G, byte B) this[int x, int y]
    {
        get
        {
            if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
                throw new ArgumentOutOfRangeException(nameof(x), $"Pixel ({x}, {y}) is outside the {Width}x{Height} image.");
            int i = (y * Width + x) * 3;
            return (Pixels[i], Pixels[i + 1], Pixels[i + 2]);
        }
    }
}
