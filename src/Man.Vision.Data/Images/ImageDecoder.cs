using System.Runtime.InteropServices;
using Man.Vision.Data.Diagnostics;
using SkiaSharp;

namespace Man.Vision.Data.Images;

/// <summary>
/// Decodes image files and byte buffers (PNG, JPEG, BMP, GIF, WebP and whatever else SkiaSharp reads) to
/// 8-bit <see cref="RgbImage"/>s, the way torchvision's <c>default_loader</c> (PIL <c>convert("RGB")</c>) does.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>The format is sniffed from the bytes, never taken from the file name: a png saved as <c>.jpg</c>
/// decodes, and the lie is recorded (<see cref="ImageHeader.ExtensionMismatch"/>, repair kind
/// <see cref="ExtensionMismatchKind"/>).</item>
/// <item>Grayscale is replicated to R = G = B; palette images are looked up to RGB (their indices are not kept;
/// a segmentation label png needs an index reader instead).</item>
/// <item>Alpha is <b>dropped</b>, not composited: the colour channels are returned unpremultiplied, exactly as
/// PIL's <c>convert("RGB")</c> does, so a fully transparent pixel keeps its stored colour.</item>
/// <item>EXIF orientation is <b>not</b> applied (neither does PIL's <c>open</c>, nor torchvision's loader):
/// pixels come in stored order. No ICC colour conversion is applied either.</item>
/// <item>An image whose data ends early is an error (<see cref="ImageDecodeException.TruncatedKind"/>), never a
/// partly grey image. Animated formats give their first frame.</item>
/// </list>
/// All methods are thread-safe.
/// </remarks>
public static class ImageDecoder
{
    /// <summary>Repair kind: the file extension names another format than the bytes.</summary>
    public const string ExtensionMismatchKind = "extension-mismatch";
    /// <summary>Repair kind: a grayscale image was replicated to RGB.</summary>
    public const string GrayToRgbKind = "gray-to-rgb";
    /// <summary>Repair kind: a palette image was looked up to RGB.</summary>
    public const string PaletteToRgbKind = "palette-to-rgb";
    /// <summary>Repair kind: the alpha channel was dropped.</summary>
    public const string AlphaDroppedKind = "alpha-dropped";

    /// <summary>File extensions (lower case, with the dot) of the formats this decoder reads.</summary>
    public static IReadOnlySet<string> Extensions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".dib", ".gif", ".webp",
    };

    /// <summary>
    /// Image extensions torchvision's <c>ImageFolder</c> accepts that SkiaSharp cannot decode (TIFF, PPM/PGM): readers
    /// report such files instead of silently ignoring them.
    /// </summary>
    public static IReadOnlySet<string> UnsupportedExtensions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".tif", ".tiff", ".ppm", ".pgm",
    };

    /// <summary>True when <paramref name="path"/>'s extension is one of <see cref="Extensions"/> (case-insensitive).</summary>
    public static bool HasImageExtension(string path) => Extensions.Contains(Path.GetExtension(path));

    /// <summary>Decodes the image file at <paramref name="path"/> to RGB.</summary>
    /// <param name="path">The file.</param>
    /// <param name="log">Where conversions (gray/palette/alpha) and extension mismatches are counted as repairs; optional.</param>
    /// <exception cref="ImageDecodeException">The file is missing, empty, not an image, truncated or corrupt.</exception>
    public static RgbImage Decode(string path, BadInputLog? log = null)
        => Decode(ReadFile(path), path, log);

    /// <summary>Decodes an encoded image held in memory to RGB.</summary>
    /// <param name="data">The encoded bytes.</param>
    /// <param name="name">The file name the bytes came from (for messages and the extension check), e.g. <c>archive.tar!a/b.jpg</c>.</param>
    /// <param name="log">Where conversions and extension mismatches are counted as repairs; optional.</param>
    /// <exception cref="ImageDecodeException">The bytes are empty, not an image, truncated or corrupt.</exception>
    public static RgbImage Decode(ReadOnlySpan<byte> data, string name, BadInputLog? log = null)
    {
        var (header, rgba) = DecodeRgba(data, name);
        int n = header.Width * header.Height;
        var rgb = new byte[n * 3];
        RgbaToRgb(rgba, rgb, n);
        Report(header, name, log);
        return new RgbImage(header.Width, header.Height, rgb, name) { Original = header };
    }

    /// <summary>
    /// Decodes an image of a known size straight into <paramref name="destination"/> (HWC RGB,
    /// <c>width·height·3</c> bytes), for readers that fill one big buffer (CIFAR-10).
    /// </summary>
    /// <exception cref="ImageDecodeException">The bytes cannot be decoded, or the image is not <paramref name="width"/>×<paramref name="height"/>.</exception>
    public static ImageHeader DecodeInto(ReadOnlySpan<byte> data, string name, Span<byte> destination, int width, int height, BadInputLog? log = null)
    {
        if (destination.Length != width * height * 3)
            throw new ArgumentException($"The destination holds {destination.Length} bytes, a {width}x{height} RGB image needs {width * height * 3}.", nameof(destination));
        var (header, rgba) = DecodeRgba(data, name);
        if (header.Width != width || header.Height != height)
            throw new ImageDecodeException("wrong-image-size", name, $"the image is {header.Width}x{header.Height}, expected {width}x{height}.");
        RgbaToRgb(rgba, destination, width * height);
        Report(header, name, log);
        return header;
    }

    /// <summary>Reads an image file's size, format and colour model from its header without decoding the pixels.</summary>
    /// <exception cref="ImageDecodeException">The file is missing, empty or not an image.</exception>
    public static ImageHeader ReadHeader(string path) => ReadHeader(ReadFile(path), path);

    /// <summary>Reads the size, format and colour model of an encoded image without decoding the pixels.</summary>
    /// <exception cref="ImageDecodeException">The bytes are empty or not an image.</exception>
    public static ImageHeader ReadHeader(ReadOnlySpan<byte> data, string name)
    {
        if (data.Length == 0)
            throw new ImageDecodeException(ImageDecodeException.NotAnImageKind, name, "the image file is empty (0 bytes).");
        using var skData = SKData.CreateCopy(data);
        using var codec = CreateCodec(skData, data, name);
        return MakeHeader(codec, data, name);
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Sniffs the format from the first bytes; <see cref="ImageFormat.Other"/> when none of the named formats matches.</summary>
    public static ImageFormat SniffFormat(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 8 && data[..8].SequenceEqual(PngSignature)) return ImageFormat.Png;
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return ImageFormat.Jpeg;
        if (data.Length >= 2 && data[0] == (byte)'B' && data[1] == (byte)'M') return ImageFormat.Bmp;
        if (data.Length >= 6 && (data[..6].SequenceEqual("GIF87a"u8) || data[..6].SequenceEqual("GIF89a"u8))) return ImageFormat.Gif;
        if (data.Length >= 12 && data[..4].SequenceEqual("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8)) return ImageFormat.Webp;
        return ImageFormat.Other;
    }

    /// <summary>The format a file name's extension claims, or null when the extension names none of <see cref="ImageFormat"/>'s members.</summary>
    public static ImageFormat? FormatFromExtension(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".jpg" or ".jpeg" or ".jpe" or ".jfif" => ImageFormat.Jpeg,
        ".png" => ImageFormat.Png,
        ".bmp" or ".dib" => ImageFormat.Bmp,
        ".gif" => ImageFormat.Gif,
        ".webp" => ImageFormat.Webp,
        _ => null,
    };

    private static byte[] ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ImageDecodeException(ImageDecodeException.MissingKind, path, "the image file does not exist.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException(ImageDecodeException.CorruptKind, path, $"the image file cannot be read: {e.Message}", e);
        }
    }

    private static (ImageHeader Header, byte[] Rgba) DecodeRgba(ReadOnlySpan<byte> data, string name)
    {
        if (data.Length == 0)
            throw new ImageDecodeException(ImageDecodeException.NotAnImageKind, name, "the image file is empty (0 bytes).");
        using var skData = SKData.CreateCopy(data);
        using var codec = CreateCodec(skData, data, name);
        var header = MakeHeader(codec, data, name);
        var info = new SKImageInfo(header.Width, header.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[(long)header.Width * header.Height * 4];
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        SKCodecResult result;
        try
        {
            result = codec.GetPixels(info, handle.AddrOfPinnedObject());
        }
        finally
        {
            handle.Free();
        }
        switch (result)
        {
            case SKCodecResult.Success:
                return (header, rgba);
            case SKCodecResult.IncompleteInput:
                throw new ImageDecodeException(ImageDecodeException.TruncatedKind, name,
                    $"the {header.Format} image ({header.Width}x{header.Height}) is truncated: its data ends before the last pixel row ({data.Length} bytes).");
            default:
                throw new ImageDecodeException(ImageDecodeException.CorruptKind, name,
                    $"the {header.Format} image ({header.Width}x{header.Height}) is corrupt: the decoder reported {result}.");
        }
    }

    private static SKCodec CreateCodec(SKData skData, ReadOnlySpan<byte> data, string name)
    {
        var codec = SKCodec.Create(skData);
        if (codec is not null) return codec;
        var sniffed = SniffFormat(data);
        if (sniffed != ImageFormat.Other)
            throw new ImageDecodeException(ImageDecodeException.CorruptKind, name,
                $"the file starts like a {sniffed} image but its header is truncated or corrupt ({data.Length} bytes).");
        string head = Convert.ToHexString(data[..Math.Min(8, data.Length)]);
        throw new ImageDecodeException(ImageDecodeException.NotAnImageKind, name,
            $"not a recognised image format (first bytes {head}, {data.Length} bytes).");
    }

    private static ImageHeader MakeHeader(SKCodec codec, ReadOnlySpan<byte> data, string name)
    {
        var info = codec.Info;
        var format = codec.EncodedFormat switch
        {
            SKEncodedImageFormat.Png => ImageFormat.Png,
            SKEncodedImageFormat.Jpeg => ImageFormat.Jpeg,
            SKEncodedImageFormat.Bmp => ImageFormat.Bmp,
            SKEncodedImageFormat.Gif => ImageFormat.Gif,
            SKEncodedImageFormat.Webp => ImageFormat.Webp,
            _ => ImageFormat.Other,
        };
        if (info.Width <= 0 || info.Height <= 0)
            throw new ImageDecodeException(ImageDecodeException.CorruptKind, name, $"the {format} header gives an empty size {info.Width}x{info.Height}.");
        var model = info.ColorType == SKColorType.Gray8 ? ImageColorModel.Gray : ImageColorModel.Rgb;
        if (format == ImageFormat.Png && data.Length >= 26 && data[12..16].SequenceEqual("IHDR"u8))
        {
            model = data[25] switch
            {
                0 or 4 => ImageColorModel.Gray,
                3 => ImageColorModel.Palette,
                _ => ImageColorModel.Rgb,
            };
        }
        else if (format == ImageFormat.Gif)
        {
            model = ImageColorModel.Palette;
        }
        bool alpha = info.AlphaType != SKAlphaType.Opaque;
        var claimed = FormatFromExtension(name);
        bool mismatch = claimed is not null && format != ImageFormat.Other && claimed != format;
        return new ImageHeader(info.Width, info.Height, format, model, alpha, mismatch);
    }

    private static void Report(ImageHeader h, string name, BadInputLog? log)
    {
        if (log is null) return;
        if (h.ExtensionMismatch)
            log.Repaired(ExtensionMismatchKind, name, $"the extension says {FormatFromExtension(name)}, the bytes are {h.Format}; decoded as {h.Format}.");
        if (h.ColorModel == ImageColorModel.Gray)
            log.Repaired(GrayToRgbKind, name, "grayscale replicated to RGB.");
        else if (h.ColorModel == ImageColorModel.Palette)
            log.Repaired(PaletteToRgbKind, name, "palette colours looked up to RGB.");
        if (h.HasAlpha)
            log.Repaired(AlphaDroppedKind, name, "alpha channel dropped (colours kept unpremultiplied).");
    }

    private static void RgbaToRgb(ReadOnlySpan<byte> rgba, Span<byte> rgb, int pixels)
    {
        for (int i = 0, j = 0; i < pixels; i++, j += 3)
        {
            int s = i * 4;
            rgb[j] = rgba[s];
            rgb[j + 1] = rgba[s + 1];
            rgb[j + 2] = rgba[s + 2];
        }
    }
}
