using System.IO.Compression;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace Man.Vision.Data.Tests.Images;

/// <summary>Writes small images with known pixels (SkiaSharp, plus a hand-made palette PNG) for the decoder tests.</summary>
internal static class TestImages
{
    /// <summary>Encodes raw pixels of the given Skia colour type (bytes per pixel implied) with SkiaSharp.</summary>
    public static byte[] Encode(byte[] pixels, int width, int height, SKColorType type, SKAlphaType alpha, SKEncodedImageFormat format, int quality = 100)
    {
        var info = new SKImageInfo(width, height, type, alpha);
        var handle = GCHandle.Alloc(pixels, GCHandleType.Pinned);
        try
        {
            using var pixmap = new SKPixmap(info, handle.AddrOfPinnedObject());
            using var data = pixmap.Encode(format, quality) ?? throw new InvalidOperationException("encode failed");
            return data.ToArray();
        }
        finally
        {
            handle.Free();
        }
    }

    /// <summary>A W×H RGBA gradient: r = 10x, g = 20y, b = 7(x+y), a given.</summary>
    public static byte[] Rgba(int w, int h, Func<int, int, byte> alpha)
    {
        var p = new byte[w * h * 4];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = (y * w + x) * 4;
                p[i] = (byte)(10 * x);
                p[i + 1] = (byte)(20 * y);
                p[i + 2] = (byte)(7 * (x + y));
                p[i + 3] = alpha(x, y);
            }
        return p;
    }

    /// <summary>An 8-bit palette PNG (colour type 3) with the given palette and indices, optional tRNS.</summary>
    public static byte[] PalettePng(int w, int h, byte[] indices, (byte R, byte G, byte B)[] palette, byte[]? transparency = null)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        WriteBE(ihdr, 0, w);
        WriteBE(ihdr, 4, h);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 3; // palette
        Chunk(ms, "IHDR", ihdr);
        Chunk(ms, "PLTE", palette.SelectMany(c => new[] { c.R, c.G, c.B }).ToArray());
        if (transparency is not null) Chunk(ms, "tRNS", transparency);
        using var raw = new MemoryStream();
        for (int y = 0; y < h; y++)
        {
            raw.WriteByte(0); // filter none
            raw.Write(indices, y * w, w);
        }
        using var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(raw.ToArray());
        Chunk(ms, "IDAT", z.ToArray());
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var len = new byte[4];
        WriteBE(len, 0, data.Length);
        s.Write(len);
        var td = new byte[4 + data.Length];
        for (int i = 0; i < 4; i++) td[i] = (byte)type[i];
        data.CopyTo(td, 4);
        s.Write(td);
        var crc = new byte[4];
        WriteBE(crc, 0, (int)Crc32(td));
        s.Write(crc);
    }

    private static void WriteBE(byte[] b, int o, int v)
    {
        b[o] = (byte)(v >> 24); b[o + 1] = (byte)(v >> 16); b[o + 2] = (byte)(v >> 8); b[o + 3] = (byte)v;
    }

    private static uint Crc32(byte[] data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return c ^ 0xFFFFFFFF;
    }
}
