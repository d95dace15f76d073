using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Segmentation;

namespace Man.Vision.Segmentation.IO;

/// <summary>
/// Reads and writes label maps as PNG with their raw values: greyscale PNGs (bit depth 1–16; 16-bit values must
/// fit in a byte) give their grey levels, palette PNGs (VOC style) give their palette indices, never colours.
/// </summary>
/// <remarks>
/// A facade over the data layer's <see cref="PngCodec"/> (SkiaSharp decodes palette PNGs to colours, which loses the
/// class indices, so the codec reads the chunks itself and verifies their CRCs). Colour or alpha PNGs are rejected
/// with a message naming the file; every decoding problem is an <see cref="InvalidDataException"/>.
/// </remarks>
public static class LabelPng
{
    /// <summary>Reads a label PNG.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a single-channel PNG or is corrupt; the message names it.</exception>
    public static ClassMap Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Label PNG '{path}' does not exist.", path);
        return Decode(File.ReadAllBytes(path), path);
    }

    /// <summary>Decodes a label PNG held in memory.</summary>
    /// <exception cref="InvalidDataException">Not a single-channel PNG, or corrupt.</exception>
    public static ClassMap Decode(ReadOnlySpan<byte> png) => Decode(png.ToArray(), "<png>");

    private static ClassMap Decode(byte[] png, string source)
    {
        PngLabelImage image;
        try
        {
            image = PngCodec.Decode(png, source);
        }
        catch (BadInputException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
        if (!image.IsSingleChannel)
        {
            string what = image.ColorType switch
            {
                2 => "is an RGB PNG; label maps must be single-channel (greyscale or palette indices)",
                4 => "is a greyscale+alpha PNG; label maps must be single-channel without alpha",
                _ => "is an RGBA PNG; label maps must be single-channel (greyscale or palette indices)",
            };
            throw new InvalidDataException($"'{source}' {what}.");
        }
        var pixels = new byte[image.Samples.Length];
        for (int i = 0; i < pixels.Length; i++)
        {
            ushort v = image.Samples[i];
            if (v > 255)
                throw new InvalidDataException($"'{source}': 16-bit label value {v} at ({i % image.Width}, {i / image.Width}) does not fit in 8 bits.");
            pixels[i] = (byte)v;
        }
        return new ClassMap(image.Width, image.Height, pixels);
    }

    /// <summary>Writes a label map as an 8-bit greyscale PNG (creating the folder).</summary>
    public static void Write(string path, ClassMap map)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllBytes(path, Encode(map));
    }

    /// <summary>Encodes a label map as an 8-bit greyscale PNG.</summary>
    public static byte[] Encode(ClassMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return PngCodec.EncodeGray(map.Pixels, map.Width, map.Height);
    }
}
