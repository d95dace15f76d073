using System.Runtime.InteropServices;
using SkiaSharp;

namespace Man.Vision.Data.Images;

/// <summary>Encodes <see cref="RgbImage"/>s to PNG or JPEG (SkiaSharp), in memory or to a file.</summary>
public static class ImageEncoder
{
    /// <summary>Encodes an image.</summary>
    /// <param name="image">The image.</param>
    /// <param name="format"><see cref="ImageFormat.Png"/> (lossless), <see cref="ImageFormat.Jpeg"/> or <see cref="ImageFormat.Webp"/>.</param>
    /// <param name="quality">JPEG/WebP quality 1..100 (ignored for PNG).</param>
    /// <exception cref="ArgumentException">The format cannot be written or the quality is out of range.</exception>
    public static byte[] Encode(RgbImage image, ImageFormat format = ImageFormat.Png, int quality = 95)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (quality is < 1 or > 100)
            throw new ArgumentOutOfRangeException(nameof(quality), quality, "Quality must be in 1..100.");
        var skFormat = format switch
        {
            ImageFormat.Png => SKEncodedImageFormat.Png,
            ImageFormat.Jpeg => SKEncodedImageFormat.Jpeg,
            ImageFormat.Webp => SKEncodedImageFormat.Webp,
            _ => throw new ArgumentException($"Cannot encode {format}: use Png, Jpeg or Webp.", nameof(format)),
        };
        int n = image.Width * image.Height;
        var rgba = new byte[n * 4];
        var src = image.Pixels;
        for (int i = 0; i < n; i++)
        {
            rgba[i * 4] = src[i * 3];
            rgba[i * 4 + 1] = src[i * 3 + 1];
            rgba[i * 4 + 2] = src[i * 3 + 2];
            rgba[i * 4 + 3] = 255;
        }
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            using var pixmap = new SKPixmap(info, handle.AddrOfPinnedObject());
            using var data = pixmap.Encode(skFormat, quality)
                ?? throw new InvalidOperationException($"SkiaSharp failed to encode a {image.Width}x{image.Height} image as {format}.");
            return data.ToArray();
        }
        finally
        {
            handle.Free();
        }
    }

    /// <summary>
    /// Writes an image to <paramref name="path"/> in the format its extension names (<c>.png</c>, <c>.jpg</c>/<c>.jpeg</c>,
    /// <c>.webp</c>). The file is written to a temporary name and moved into place, so a reader never sees half a file.
    /// </summary>
    /// <exception cref="ArgumentException">The extension names no writable format.</exception>
    public static void Save(RgbImage image, string path, int quality = 95)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var format = ImageDecoder.FormatFromExtension(path)
            ?? throw new ArgumentException($"Cannot tell the image format from '{path}': use .png, .jpg, .jpeg or .webp.", nameof(path));
        var bytes = Encode(image, format, quality);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string tmp = full + $".{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}
